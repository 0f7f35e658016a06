package io.runbook.transport;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A client of ssh-agent's protocol (draft-miller-ssh-agent) over its unix socket: list the keys it
 * holds and have it sign. Only those two requests: runbook never adds or removes keys.
 *
 * <p>Our own, about a hundred lines on Java 17's unix-domain {@link SocketChannel}: sshj has no
 * agent support, and the library usually paired with it (jsch-agent-proxy) is unmaintained since
 * 2016 and reaches unix sockets through JNA. Each request opens its own connection, as ssh does per
 * session, so parallel logins never share a socket.
 */
public final class SshAgent {
  private static final byte FAILURE = 5;
  private static final byte REQUEST_IDENTITIES = 11;
  private static final byte IDENTITIES_ANSWER = 12;
  private static final byte SIGN_REQUEST = 13;
  private static final byte SIGN_RESPONSE = 14;

  /** Sign RSA keys with SHA-512: OpenSSH 8.8+ refuses ssh-rsa (SHA-1) signatures. */
  static final int RSA_SHA2_512 = 4;

  private static final int MAX_MESSAGE = 256 * 1024;

  /**
   * A key the agent holds: its public key blob (as in authorized_keys, decoded) and its comment.
   */
  // the agent's key blob as is; compared by Arrays.equals where needed
  @SuppressWarnings("ArrayRecordComponent")
  public record Identity(byte[] blob, String comment) {
    /** The key type named in the blob: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256... */
    public String type() {
      ByteBuffer b = ByteBuffer.wrap(blob);
      return readString(b, "key blob");
    }
  }

  private final Path socket;

  public SshAgent(Path socket) {
    this.socket = socket;
  }

  public Path socket() {
    return socket;
  }

  /** The agent of {@code SSH_AUTH_SOCK}, or null when it is not set. */
  public static SshAgent fromEnvironment() {
    String sock = System.getenv("SSH_AUTH_SOCK");
    return sock == null || sock.isBlank() ? null : new SshAgent(Path.of(sock));
  }

  public List<Identity> identities() throws IOException {
    ByteBuffer reply = request(new byte[] {REQUEST_IDENTITIES});
    byte type = reply.get();
    if (type != IDENTITIES_ANSWER)
      throw new IOException("the agent at " + socket + " answered " + type);
    int n = reply.getInt();
    List<Identity> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] blob = readBytes(reply, "identities");
      ids.add(new Identity(blob, readString(reply, "identities")));
    }
    return ids;
  }

  /** The signature the agent makes of {@code data} with {@code key}, as SSH puts it in a packet. */
  public byte[] sign(byte[] key, byte[] data, int flags) throws IOException {
    ByteBuffer msg = ByteBuffer.allocate(1 + 4 + key.length + 4 + data.length + 4);
    msg.put(SIGN_REQUEST).putInt(key.length).put(key).putInt(data.length).put(data).putInt(flags);
    ByteBuffer reply = request(msg.array());
    byte type = reply.get();
    if (type == FAILURE)
      throw new IOException(
          "the agent at " + socket + " refused to sign (a key confirmation declined?)");
    if (type != SIGN_RESPONSE)
      throw new IOException("the agent at " + socket + " answered " + type);
    return readBytes(reply, "signature");
  }

  private ByteBuffer request(byte[] message) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ByteBuffer out =
          ByteBuffer.allocate(4 + message.length).putInt(message.length).put(message).flip();
      while (out.hasRemaining()) ch.write(out);
      ByteBuffer len = readFully(ch, 4);
      int n = len.getInt();
      if (n <= 0 || n > MAX_MESSAGE)
        throw new IOException("the agent at " + socket + " sent a message of " + n + " bytes");
      return readFully(ch, n);
    }
  }

  private ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0)
        throw new IOException("the agent at " + socket + " closed the connection");
    }
    return b.flip();
  }

  private static byte[] readBytes(ByteBuffer b, String what) {
    if (b.remaining() < 4) throw new IllegalStateException("truncated " + what + " from the agent");
    int n = b.getInt();
    if (n < 0 || n > b.remaining())
      throw new IllegalStateException("truncated " + what + " from the agent");
    byte[] out = new byte[n];
    b.get(out);
    return out;
  }

  private static String readString(ByteBuffer b, String what) {
    return new String(readBytes(b, what), StandardCharsets.UTF_8);
  }
}
