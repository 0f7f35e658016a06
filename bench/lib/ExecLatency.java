import io.runbook.transport.Become;
import io.runbook.transport.ExecRequest;
import io.runbook.transport.HostKeyPolicy;
import io.runbook.transport.SshSettings;
import io.runbook.transport.SshTransport;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;

/**
 * Where one command's time goes on an open connection: the engine's SshTransport against plain sshj on the
 * same host, cold (first calls, JIT not warm) and warm. Run by bench/profile.sh against the jar's classes:
 *
 *   java -cp engine/target/runbook.jar bench/lib/ExecLatency.java HOST PORT USER KEY KNOWN_HOSTS [COUNT]
 *
 * Prints per-call milliseconds (median, p90) for: connect, exec "true", exec with 16 KiB on stdin (what an
 * upload does), and plain sshj exec with the same commands.
 */
public final class ExecLatency {
  /** Times COUNT execs of 'true' and of 'cat' fed 16 KiB on an open connection; the first 20 warm up. */
  private static void plainExecs(SSHClient c, byte[] payload, int count, String label) throws Exception {
    double[] plain = new double[count];
    double[] plainIn = new double[count];
    for (int i = 0; i < count; i++) {
      long s = System.nanoTime();
      try (Session session = c.startSession()) {
        Session.Command cmd = session.exec("true");
        cmd.getInputStream().transferTo(new ByteArrayOutputStream());
        cmd.join(1, TimeUnit.MINUTES);
      }
      plain[i] = ms(s);
      s = System.nanoTime();
      try (Session session = c.startSession()) {
        Session.Command cmd = session.exec("cat > /dev/null");
        cmd.getOutputStream().write(payload);
        cmd.getOutputStream().close();
        cmd.getInputStream().transferTo(new ByteArrayOutputStream());
        cmd.join(1, TimeUnit.MINUTES);
      }
      plainIn[i] = ms(s);
    }
    report(label + " exec 'true'", Arrays.copyOfRange(plain, 20, count));
    report(label + " exec with 16 KiB stdin", Arrays.copyOfRange(plainIn, 20, count));
  }

  public static void main(String[] a) throws Exception {
    String host = a[0];
    int port = Integer.parseInt(a[1]);
    String user = a[2];
    Path key = Path.of(a[3]);
    Path knownHosts = Path.of(a[4]);
    int count = a.length > 5 ? Integer.parseInt(a[5]) : 200;
    byte[] payload = new byte[16 * 1024];

    SshSettings settings = new SshSettings("h", host, port, user, key, knownHosts, HostKeyPolicy.STRICT,
        Duration.ofSeconds(10));
    long t0 = System.nanoTime();
    SshTransport t = SshTransport.connect(settings);
    report("engine connect (cold JVM)", new double[] {ms(t0)});
    double[] exec = new double[count];
    double[] upload = new double[count];
    for (int i = 0; i < count; i++) {
      long s = System.nanoTime();
      t.exec(ExecRequest.builder("true").timeout(Duration.ofMinutes(1)).become(Become.NONE).build());
      exec[i] = ms(s);
      s = System.nanoTime();
      t.exec(ExecRequest.builder("cat > /dev/null").stdin(payload).timeout(Duration.ofMinutes(1)).build());
      upload[i] = ms(s);
    }
    report("engine exec 'true', first 20", Arrays.copyOf(exec, 20));
    report("engine exec 'true', rest", Arrays.copyOfRange(exec, 20, count));
    report("engine exec with 16 KiB stdin, first 20", Arrays.copyOf(upload, 20));
    report("engine exec with 16 KiB stdin, rest", Arrays.copyOfRange(upload, 20, count));
    t.close();

    DefaultConfig config = new DefaultConfig();
    SSHClient c = new SSHClient(config);
    c.addHostKeyVerifier(new OpenSSHKnownHosts(knownHosts.toFile()));
    t0 = System.nanoTime();
    c.connect(host, port);
    c.authPublickey(user, c.loadKeys(key.toString()));
    report("sshj connect (JVM warm)", new double[] {ms(t0)});
    plainExecs(c, payload, count, "plain sshj");

    // The same with Nagle's algorithm off on the controller's socket.
    c.getSocket().setTcpNoDelay(true);
    plainExecs(c, payload, count, "sshj + TCP_NODELAY");
    c.disconnect();
  }

  private static double ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e6;
  }

  private static void report(String what, double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    System.out.printf("%-45s n=%-4d median %7.1f ms  p90 %7.1f ms  min %7.1f ms%n", what, s.length,
        s[s.length / 2], s[(int) Math.min(s.length - 1, Math.floor(s.length * 0.9))], s[0]);
  }
}
