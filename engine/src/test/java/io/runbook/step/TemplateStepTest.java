package io.runbook.step;

import static io.runbook.step.RecordingTransport.ok;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.runbook.result.Status;
import io.runbook.result.StepResult;
import io.runbook.transport.LocalTransport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateStepTest {
  final TemplateStep step = new TemplateStep();
  @TempDir Path dir;

  static final String TEMPLATE =
      """
      # managed by runbook
      port=[=app_port]
      [#if debug]log=debug[/#if]
      nodes=[#list nodes as n][=n][#sep],[/#list]
      home=${HOME}
      """;

  @BeforeEach
  void writeTemplate() throws Exception {
    Files.createDirectories(dir.resolve("templates"));
    Files.writeString(dir.resolve("templates/app.conf.ftl"), TEMPLATE);
  }

  FakeContext vars(FakeContext ctx) {
    return ctx.with("app_port", 8080).with("debug", true).with("nodes", List.of("a", "b"));
  }

  static final String RENDERED =
      "# managed by runbook\nport=8080\nlog=debug\nnodes=a,b\nhome=${HOME}\n";

  @Test
  void rendersWithTheHostsVariablesAndUploadsTheResult() {
    RecordingTransport host = new RecordingTransport().answer(ok("absent\n"));
    StepResult r =
        step.execute(
            Bind.args(step, "{src: templates/app.conf.ftl, dest: /etc/app.conf, mode: '0644'}"),
            vars(new FakeContext(host, dir)));
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(new String(host.last().stdin(), StandardCharsets.UTF_8)).isEqualTo(RENDERED);
    assertThat(r.data())
        .containsEntry("checksum", RemoteFile.sha256(RENDERED.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void undefinedVariableFailsNamingTheTemplateBeforeTouchingTheHost() {
    RecordingTransport host = new RecordingTransport();
    StepResult r =
        step.execute(
            Bind.args(step, "{src: templates/app.conf.ftl, dest: /etc/app.conf}"),
            new FakeContext(host, dir).with("app_prot", 1));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message())
        .isEqualTo(
            "templates/app.conf.ftl: undefined variable 'app_port' (did you mean 'app_prot'?)");
    assertThat(host.requests).isEmpty();
  }

  @Test
  void missingTemplateFails() {
    StepResult r =
        step.execute(
            Bind.args(step, "{src: templates/nope.ftl, dest: /x}"),
            new FakeContext(new RecordingTransport(), dir));
    assertThat(r.status()).isEqualTo(Status.FAILED);
    assertThat(r.message()).startsWith("src file not found on the controller: ");
  }

  @Test
  void onARealHostItWritesIsIdempotentAndUndoes() throws Exception {
    FakeContext ctx = vars(new FakeContext(new LocalTransport("local"), dir));
    Path dest = dir.resolve("out/app.conf");
    Files.createDirectories(dest.getParent());
    Files.writeString(dest, "port=80\n");
    TemplateStep.Args a = Bind.args(step, "{src: templates/app.conf.ftl, dest: '" + dest + "'}");

    StepResult r = step.execute(a, ctx);
    assertThat(r.status()).isEqualTo(Status.CHANGED);
    assertThat(Files.readString(dest)).isEqualTo(RENDERED);
    assertThat(r.data())
        .containsEntry("previous_checksum", RemoteFile.sha256("port=80\n".getBytes(UTF_8)))
        .containsEntry("checksum", RemoteFile.sha256(Files.readAllBytes(dest)));

    assertThat(step.execute(a, ctx).status()).isEqualTo(Status.OK);

    ctx.vars.put("app_port", 9090);
    StepResult again = step.execute(a, ctx);
    assertThat(again.status()).isEqualTo(Status.CHANGED);
    assertThat(Files.readString(dest)).contains("port=9090");

    step.undo(a, again).orElseThrow().run(ctx);
    assertThat(Files.readString(dest)).isEqualTo(RENDERED);
    step.undo(a, r).orElseThrow().run(ctx);
    assertThat(Files.readString(dest)).isEqualTo("port=80\n");
    assertThat(step.undo(a, StepResult.ok("unchanged").withData(Map.of()))).isEmpty();
  }
}
