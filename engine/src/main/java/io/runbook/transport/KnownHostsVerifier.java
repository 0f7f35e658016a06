package io.runbook.transport;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.schmizz.sshj.common.Buffer;
import net.schmizz.sshj.common.KeyType;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;

/**
 * sshj's known_hosts check, plus the two things it lacks: it remembers <em>why</em> it refused a
 * key (sshj only reports "could not verify"), so that the message can say what to do; and under
 * {@link HostKeyPolicy#ACCEPT_NEW} it appends keys of hosts it has never seen. A host that is known
 * with a different key is refused under every policy. One instance per connection attempt, so that
 * each attempt sees the file as it is then.
 *
 * <p>The file is parsed once while it stays the same (path, size and modification time): a run over
 * N hosts would otherwise parse its N entries N times over, and keep N×N parsed keys for as long as
 * the connections live (40,000 for 200 hosts, 15 MB of heap and a second of CPU). The verifiers
 * share the parsed entries and check one at a time per file, since sshj's matcher for hashed host
 * names keeps a MAC.
 */
final class KnownHostsVerifier extends OpenSSHKnownHosts {

  enum Outcome {
    UNKNOWN,
    CHANGED,
    NOT_RECORDED
  }

  /** Why a host key was refused; {@code detail} explains {@link Outcome#NOT_RECORDED}. */
  record Rejection(Outcome outcome, String keyType, String fingerprint, String detail) {}

  /** Appends from parallel connections of one run must not interleave. */
  private static final Object APPEND_LOCK = new Object();

  /** A new ~/.ssh must be private to its owner, as OpenSSH wants it. */
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private static final Map<Path, Parsed> PARSED = new HashMap<>();

  /**
   * One parse of a known_hosts file as it was at {@code size} and {@code modified} (-1 when
   * missing).
   */
  private record Parsed(long size, long modified, List<KnownHostEntry> entries) {}

  private final Path file;
  private final HostKeyPolicy policy;
  private final Object lock;
  private volatile Rejection rejection;

  KnownHostsVerifier(Path file, HostKeyPolicy policy) throws IOException {
    this(file, List.of(), policy);
  }

  /**
   * @param more files that vouch for keys too but are never written to (OpenSSH's other
   *     known_hosts)
   */
  KnownHostsVerifier(Path file, List<Path> more, HostKeyPolicy policy) throws IOException {
    super(new StringReader(""));
    this.file = file;
    this.policy = policy;
    Parsed parsed = parsed(file);
    this.lock = parsed;
    entries.addAll(parsed.entries());
    for (Path m : more) {
      if (!m.equals(file) && Files.isReadable(m)) entries.addAll(parsed(m).entries());
    }
  }

  /** Synchronized: connections that start together must not each parse the file. */
  private static synchronized Parsed parsed(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    long size = -1;
    long modified = -1;
    if (Files.exists(key)) {
      size = Files.size(key);
      modified = Files.getLastModifiedTime(key).toMillis();
    }
    Parsed cached = PARSED.get(key);
    if (cached != null && cached.size() == size && cached.modified() == modified) return cached;
    List<KnownHostEntry> entries =
        size < 0 ? List.of() : List.copyOf(new OpenSSHKnownHosts(key.toFile()).entries());
    Parsed fresh = new Parsed(size, modified, entries);
    PARSED.put(key, fresh);
    return fresh;
  }

  @Override
  public boolean verify(String hostname, int port, PublicKey key) {
    synchronized (lock) {
      return super.verify(hostname, port, key);
    }
  }

  @Override
  public List<String> findExistingAlgorithms(String hostname, int port) {
    synchronized (lock) {
      return super.findExistingAlgorithms(hostname, port);
    }
  }

  /** Why the last key was refused, or null if none was. */
  Rejection rejection() {
    return rejection;
  }

  @Override
  protected boolean hostKeyUnverifiableAction(String hostname, PublicKey key) {
    if (policy != HostKeyPolicy.ACCEPT_NEW) {
      rejection =
          new Rejection(Outcome.UNKNOWN, KeyType.fromKey(key).toString(), fingerprint(key), null);
      return false;
    }
    try {
      append(
          hostname
              + " "
              + KeyType.fromKey(key)
              + " "
              + Base64.getEncoder().encodeToString(blob(key)));
      return true;
    } catch (IOException e) {
      rejection =
          new Rejection(
              Outcome.NOT_RECORDED,
              KeyType.fromKey(key).toString(),
              fingerprint(key),
              e.toString());
      return false;
    }
  }

  @Override
  protected boolean hostKeyChangedAction(String hostname, PublicKey key) {
    rejection =
        new Rejection(Outcome.CHANGED, KeyType.fromKey(key).toString(), fingerprint(key), null);
    return false;
  }

  private void append(String line) throws IOException {
    synchronized (APPEND_LOCK) {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null && !Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      }
      // A file edited by hand may lack its last newline; our line must not be glued onto that
      // entry.
      String prefix = endsWithNewline(file) ? "" : System.lineSeparator();
      Files.writeString(
          file,
          prefix + line + System.lineSeparator(),
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
  }

  private static boolean endsWithNewline(Path file) throws IOException {
    if (!Files.exists(file) || Files.size(file) == 0) return true;
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      raf.seek(raf.length() - 1);
      return raf.read() == '\n';
    }
  }

  /** The fingerprint as OpenSSH prints it: {@code SHA256:} and unpadded base64. */
  static String fingerprint(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob(key));
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  private static byte[] blob(PublicKey key) {
    return new Buffer.PlainBuffer().putPublicKey(key).getCompactData();
  }
}
