package io.runbook.inventory;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import io.runbook.yaml.Location;
import io.runbook.yaml.Problems;
import io.runbook.yaml.YamlDocument;
import io.runbook.yaml.YamlLoader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.resolver.ScalarResolver;
import org.snakeyaml.engine.v2.schema.JsonSchema;
import org.snakeyaml.engine.v2.schema.Schema;

/**
 * YAML as Ansible reads it: PyYAML's YAML 1.1 resolver ({@code yes}, {@code on}, {@code True} are
 * booleans, {@code 0755} is octal, {@code 1_000} an integer, {@code 1e3} a string), and {@code
 * !vault} values decrypted with the {@link Vault}'s passwords. Every decrypted value is added to
 * {@code secrets}: each {@code !vault} value, and every string value of a vault-encrypted file.
 */
final class AnsibleYaml implements YamlLoader.Scalars {
  static final Tag VAULT = new Tag("!vault");
  private static final Pattern BOOL =
      Pattern.compile("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  private static final Pattern INT =
      Pattern.compile(
          "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
              + "|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+");
  private static final Pattern FLOAT =
      Pattern.compile(
          "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
              + "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)"
              + "|\\.(?:nan|NaN|NAN)");
  private static final Pattern NULL = Pattern.compile("~|null|Null|NULL|");

  private static final ScalarResolver RESOLVER =
      (value, implicit) -> {
        if (!implicit) return Tag.STR;
        if (NULL.matcher(value).matches()) return Tag.NULL;
        if (BOOL.matcher(value).matches()) return Tag.BOOL;
        if (INT.matcher(value).matches()) return Tag.INT;
        if (FLOAT.matcher(value).matches()) return Tag.FLOAT;
        return Tag.STR;
      };

  /**
   * For writers: strings that Ansible would read as booleans or numbers ({@code yes}, {@code 0755})
   * get quoted.
   */
  static final Schema SCHEMA =
      new JsonSchema() {
        @Override
        public ScalarResolver getScalarResolver() {
          return RESOLVER;
        }
      };

  private final Vault vault;
  private final Set<String> secrets;
  private boolean inVaultedFile;

  AnsibleYaml(Vault vault, Set<String> secrets) {
    this.vault = vault;
    this.secrets = secrets;
  }

  /** Parses {@code text} (a whole-file vault is decrypted first) as Ansible YAML. */
  Optional<YamlDocument> parse(Path path, String displayName, String text, Problems problems) {
    boolean vaulted = Vault.isVaulted(text);
    String plain = decryptFile(text, displayName);
    inVaultedFile = vaulted;
    try {
      return YamlLoader.parse(path, displayName, plain, problems, this);
    } finally {
      inVaultedFile = false;
    }
  }

  /** The text itself, or the plaintext of a vault-encrypted file. */
  String decryptFile(String text, String displayName) {
    return Vault.isVaulted(text) ? decrypt(text, Location.of(displayName)) : text;
  }

  @Override
  public ScalarResolver resolver() {
    return RESOLVER;
  }

  @Override
  public Object value(ScalarNode node, Location at, Problems problems) {
    String v = node.getValue();
    Tag tag = node.getTag();
    if (VAULT.equals(tag)) {
      String plain = decrypt(v, at);
      secrets.add(plain);
      return plain;
    }
    if (Tag.NULL.equals(tag)) return null;
    if (inVaultedFile && Tag.STR.equals(tag) && !v.isEmpty()) secrets.add(v);
    if (Tag.BOOL.equals(tag)) {
      String b = v.toLowerCase(Locale.ROOT);
      return b.equals("yes") || b.equals("true") || b.equals("on");
    }
    if (Tag.INT.equals(tag)) {
      Object i = integer(v);
      return i == null ? v : i;
    }
    if (Tag.FLOAT.equals(tag)) {
      Double d = floating(v);
      return d == null ? v : d;
    }
    if (!Tag.STR.equals(tag)
        && tag.getValue().startsWith("!")
        && !tag.getValue().startsWith("!!")) {
      // Ansible's other local tags (!unsafe) mark text; the text is what the variable holds.
      return v;
    }
    return v;
  }

  private String decrypt(String vaultText, Location at) {
    try {
      return new String(vault.decrypt(vaultText), StandardCharsets.UTF_8);
    } catch (Vault.VaultException e) {
      // One clear error: a wrong password would fail every other vaulted value the same way.
      throw new RunbookException(ErrorCode.INVALID_INPUT, at + ": " + e.getMessage());
    }
  }

  static Object integer(String text) {
    String s = text.replace("_", "");
    int sign = 1;
    if (s.startsWith("-")) {
      sign = -1;
      s = s.substring(1);
    } else if (s.startsWith("+")) {
      s = s.substring(1);
    }
    BigInteger n;
    try {
      if (s.equals("0")) n = BigInteger.ZERO;
      else if (s.startsWith("0b")) n = new BigInteger(s.substring(2), 2);
      else if (s.startsWith("0x")) n = new BigInteger(s.substring(2), 16);
      else if (s.startsWith("0")) n = new BigInteger(s.substring(1), 8);
      else if (s.contains(":")) n = BigInteger.valueOf((long) sexagesimal(s));
      else n = new BigInteger(s);
    } catch (NumberFormatException e) {
      return null;
    }
    if (sign < 0) n = n.negate();
    return n.bitLength() < 64 ? (Object) n.longValue() : n;
  }

  private static Double floating(String text) {
    String s = text.replace("_", "").toLowerCase(Locale.ROOT);
    double sign = 1;
    if (s.startsWith("-")) {
      sign = -1;
      s = s.substring(1);
    } else if (s.startsWith("+")) {
      s = s.substring(1);
    }
    if (s.equals(".inf")) return sign * Double.POSITIVE_INFINITY;
    if (s.equals(".nan")) return Double.NaN;
    try {
      return sign * (s.contains(":") ? sexagesimal(s) : Double.parseDouble(s));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code 1:30} is 90 (YAML 1.1's base 60). */
  private static double sexagesimal(String s) {
    double value = 0;
    for (String part : s.split(":", -1)) value = value * 60 + Double.parseDouble(part);
    return value;
  }
}
