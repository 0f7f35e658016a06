package io.runbook.transport;

import java.io.IOException;
import net.schmizz.sshj.common.Buffer;
import net.schmizz.sshj.common.Message;
import net.schmizz.sshj.common.SSHPacket;
import net.schmizz.sshj.userauth.UserAuthException;
import net.schmizz.sshj.userauth.method.AbstractAuthMethod;

/**
 * Public-key login (RFC 4252 section 7) with a key that stays in ssh-agent: the query names the
 * public key, and once the server accepts it the agent signs the session identifier and request.
 */
final class AgentAuth extends AbstractAuthMethod {
  private final SshAgent agent;
  private final SshAgent.Identity identity;
  private final String algorithm;
  private final int flags;

  AgentAuth(SshAgent agent, SshAgent.Identity identity) {
    super("publickey");
    this.agent = agent;
    this.identity = identity;
    String type = identity.type();
    // An RSA key is offered with a SHA-2 signature algorithm: what OpenSSH itself offers today.
    boolean rsa = type.equals("ssh-rsa");
    this.algorithm = rsa ? "rsa-sha2-512" : type;
    this.flags = rsa ? SshAgent.RSA_SHA2_512 : 0;
  }

  @Override
  public void handle(Message cmd, SSHPacket buf)
      throws UserAuthException, net.schmizz.sshj.transport.TransportException {
    if (cmd == Message.USERAUTH_60) {
      params.getTransport().write(signed());
    } else {
      super.handle(cmd, buf);
    }
  }

  @Override
  protected SSHPacket buildReq() throws UserAuthException {
    return request(false);
  }

  private SSHPacket request(boolean signed) throws UserAuthException {
    return super.buildReq().putBoolean(signed).putString(algorithm).putBytes(identity.blob());
  }

  private SSHPacket signed() throws UserAuthException {
    SSHPacket req = request(true);
    byte[] toSign =
        new Buffer.PlainBuffer()
            .putString(params.getTransport().getSessionID())
            .putBuffer(req)
            .getCompactData();
    try {
      return req.putBytes(agent.sign(identity.blob(), toSign, flags));
    } catch (IOException | RuntimeException e) {
      throw new UserAuthException(
          "ssh-agent could not sign with " + identity.comment() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "agent key " + identity.comment();
  }
}
