package io.runbook.inventory;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Ansible Vault: the passwords given on the command line and the decryption of {@code
 * $ANSIBLE_VAULT} data, formats 1.1 and 1.2 with the AES256 cipher (the only one ansible-vault
 * writes). The envelope is a header line and hex text; decoded, it is three hex lines: a 32-byte
 * salt, an HMAC-SHA256 and the ciphertext. PBKDF2-HMAC-SHA256 with 10,000 iterations turns password
 * and salt into 80 bytes: the AES key, the HMAC key and the CTR counter block. The HMAC over the
 * ciphertext is checked before anything is decrypted, so a wrong password is told apart from
 * damaged data.
 */
public final class Vault {
  static final String HEADER = "$ANSIBLE_VAULT";
  private static final int ITERATIONS = 10_000;

  /**
   * One password, with the label {@code --vault-id label@file} gave it ({@code default} otherwise).
   */
  // bytes, so the password never becomes a String; never compared
  @SuppressWarnings("ArrayRecordComponent")
  public record Secret(String label, byte[] password, String source) {
    public Secret {
      Objects.requireNonNull(label, "label");
      password = password.clone();
    }
  }

  private final List<Secret> secrets;

  public Vault(List<Secret> secrets) {
    this.secrets = List.copyOf(secrets);
  }

  /** No password: vaulted data is an error that says which option to pass. */
  public static Vault none() {
    return new Vault(List.of());
  }

  public boolean hasSecrets() {
    return !secrets.isEmpty();
  }

  /**
   * The passwords of {@code --vault-password-file} (each), {@code --vault-id [label@]file} (each)
   * and, when neither is given, {@code ANSIBLE_VAULT_PASSWORD_FILE}. A file that is executable is
   * run and its output is the password, as Ansible does with password scripts; either way
   * surrounding whitespace is dropped.
   */
  public static Vault fromOptions(
      List<String> passwordFiles, List<String> vaultIds, Map<String, String> env) {
    List<Secret> out = new ArrayList<>();
    if (passwordFiles != null)
      for (String f : passwordFiles) out.add(read("default", f, "--vault-password-file"));
    if (vaultIds != null) {
      for (String id : vaultIds) {
        int at = id.indexOf('@');
        String label = at < 0 ? "default" : id.substring(0, at);
        String file = at < 0 ? id : id.substring(at + 1);
        if (file.equals("prompt")) {
          throw new RunbookException(
              ErrorCode.INVALID_INPUT,
              "--vault-id "
                  + id
                  + ": runbook does not prompt for vault"
                  + " passwords; put the password in a file readable only by you and pass --vault-id "
                  + label
                  + "@FILE");
        }
        out.add(read(label, file, "--vault-id"));
      }
    }
    String envFile = env.get("ANSIBLE_VAULT_PASSWORD_FILE");
    if (out.isEmpty() && envFile != null && !envFile.isBlank())
      out.add(read("default", envFile, "ANSIBLE_VAULT_PASSWORD_FILE"));
    return new Vault(out);
  }

  private static Secret read(String label, String file, String option) {
    Path p = AnsibleVars.expandHome(file);
    if (!Files.isRegularFile(p)) {
      throw new RunbookException(ErrorCode.INVALID_INPUT, option + " " + file + ": no such file");
    }
    try {
      byte[] bytes;
      if (Files.isExecutable(p)) {
        Process proc =
            new ProcessBuilder(p.toAbsolutePath().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.INHERIT)
                .start();
        bytes = proc.getInputStream().readAllBytes();
        if (!proc.waitFor(60, TimeUnit.SECONDS) || proc.exitValue() != 0) {
          proc.destroyForcibly();
          throw new RunbookException(
              ErrorCode.INVALID_INPUT,
              option
                  + " "
                  + file
                  + ": the password script failed (exit "
                  + (proc.isAlive() ? "timeout" : proc.exitValue())
                  + ")");
        }
      } else {
        bytes = Files.readAllBytes(p);
      }
      byte[] stripped =
          new String(bytes, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
      if (stripped.length == 0)
        throw new RunbookException(
            ErrorCode.INVALID_INPUT, option + " " + file + ": the password is empty");
      return new Secret(label, stripped, file);
    } catch (IOException e) {
      throw new RunbookException(
          ErrorCode.INVALID_INPUT, option + " " + file + ": cannot read: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunbookException(ErrorCode.INVALID_INPUT, option + " " + file + ": interrupted");
    }
  }

  /** Whether {@code text} is vault data (its first line is the vault header). */
  public static boolean isVaulted(String text) {
    return text.stripLeading().startsWith(HEADER + ";");
  }

  /** Why decryption failed; the message names no secret. */
  static final class VaultException extends Exception {
    VaultException(String message) {
      super(message);
    }
  }

  /**
   * The plaintext of vault data, trying the passwords whose label matches the data's (format 1.2)
   * first, then the others, as Ansible does.
   *
   * @throws VaultException when no password is given, none decrypts it, or the data is not valid
   *     vault data
   */
  byte[] decrypt(String vaultText) throws VaultException {
    String text = vaultText.strip();
    int nl = text.indexOf('\n');
    String header = (nl < 0 ? text : text.substring(0, nl)).strip();
    String[] h = header.split(";", -1);
    if (h.length < 3 || !h[0].equals(HEADER) || !(h[1].equals("1.1") || h[1].equals("1.2"))) {
      throw new VaultException(
          "not Ansible Vault data of format 1.1 or 1.2 (header '" + header + "')");
    }
    if (!h[2].strip().equals("AES256"))
      throw new VaultException("vault cipher " + h[2] + " is not supported; only AES256");
    String label = h.length > 3 ? h[3].strip() : null;
    if (secrets.isEmpty()) {
      throw new VaultException(
          "vaulted data needs a vault password: pass --vault-password-file FILE or --vault-id "
              + (label == null ? "" : label + "@")
              + "FILE, or set ANSIBLE_VAULT_PASSWORD_FILE");
    }
    byte[] salt;
    byte[] mac;
    byte[] cipherText;
    try {
      String hex = text.substring(nl < 0 ? text.length() : nl + 1).replaceAll("\\s", "");
      String[] parts =
          new String(HexFormat.of().parseHex(hex), StandardCharsets.US_ASCII).split("\n", -1);
      if (parts.length != 3)
        throw new IllegalArgumentException("expected salt, HMAC and ciphertext");
      salt = HexFormat.of().parseHex(parts[0].strip());
      mac = HexFormat.of().parseHex(parts[1].strip());
      cipherText = HexFormat.of().parseHex(parts[2].strip());
    } catch (IllegalArgumentException e) {
      throw new VaultException("damaged vault data: " + e.getMessage());
    }
    List<Secret> order = new ArrayList<>();
    for (Secret s : secrets) if (s.label().equals(label)) order.add(s);
    for (Secret s : secrets) if (!order.contains(s)) order.add(s);
    for (Secret s : order) {
      byte[] plain = tryDecrypt(s.password(), salt, mac, cipherText);
      if (plain != null) return plain;
    }
    throw new VaultException(
        "the vault password"
            + (secrets.size() > 1 ? "s given do" : " given does")
            + " not decrypt it"
            + (label == null ? "" : " (vault id '" + label + "')")
            + ": check --vault-password-file / --vault-id");
  }

  private static byte[] tryDecrypt(
      byte[] password, byte[] salt, byte[] expectedMac, byte[] cipherText) {
    try {
      byte[] derived = pbkdf2(password, salt, ITERATIONS, 80);
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(derived, 32, 32, "HmacSHA256"));
      if (!MessageDigest.isEqual(hmac.doFinal(cipherText), expectedMac)) return null;
      Cipher aes = Cipher.getInstance("AES/CTR/NoPadding");
      aes.init(
          Cipher.DECRYPT_MODE,
          new SecretKeySpec(derived, 0, 32, "AES"),
          new IvParameterSpec(Arrays.copyOfRange(derived, 64, 80)));
      byte[] padded = aes.doFinal(cipherText);
      int pad = padded.length == 0 ? 0 : padded[padded.length - 1] & 0xff;
      if (pad < 1 || pad > 16 || pad > padded.length) return null;
      return Arrays.copyOf(padded, padded.length - pad); // PKCS#7 over 128-bit blocks
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks AES-CTR or HmacSHA256", e);
    }
  }

  /**
   * PBKDF2-HMAC-SHA256 over raw password bytes (the JDK's PBEKeySpec takes chars, Ansible takes
   * bytes).
   */
  static byte[] pbkdf2(byte[] password, byte[] salt, int iterations, int length)
      throws GeneralSecurityException {
    Mac prf = Mac.getInstance("HmacSHA256");
    // An empty key is legal for HMAC but not for SecretKeySpec; the password is never empty here.
    prf.init(new SecretKeySpec(password, "HmacSHA256"));
    byte[] out = new byte[length];
    int blocks = (length + 31) / 32;
    for (int i = 1; i <= blocks; i++) {
      prf.update(salt);
      prf.update(new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
      byte[] u = prf.doFinal();
      byte[] t = u.clone();
      for (int j = 1; j < iterations; j++) {
        u = prf.doFinal(u);
        for (int k = 0; k < t.length; k++) t[k] ^= u[k];
      }
      System.arraycopy(t, 0, out, (i - 1) * 32, Math.min(32, length - (i - 1) * 32));
    }
    return out;
  }
}
