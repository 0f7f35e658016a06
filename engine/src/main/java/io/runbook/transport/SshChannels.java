package io.runbook.transport;

import java.io.IOException;
import net.schmizz.sshj.connection.channel.Channel;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.connection.channel.direct.Signal;

/** The plumbing of one command's session channel: its streams, signals, exit code and release. */
final class SshChannels {
  private SshChannels() {}

  static void signal(Session.Command cmd, Signal signal) {
    try {
      cmd.signal(signal);
    } catch (IOException ignored) {
      // the channel is already closing
    }
  }

  /** Closes a channel without waiting on a host that may not answer. */
  static void release(Channel session) {
    if (!session.isOpen()) {
      try {
        session.close(); // already closed by the host: returns at once
      } catch (IOException ignored) {
        // nothing left to release
      }
      return;
    }
    Thread t =
        new Thread(
            () -> {
              try {
                session.close();
              } catch (IOException ignored) {
                // the host never confirmed; the connection's end will clean up
              }
            },
            "ssh-close");
    t.setDaemon(true);
    t.start();
  }

  /** The exit status, or 128 + signal like a shell reports a killed command, or -1. */
  static int exitCode(Session.Command cmd) {
    Integer status = cmd.getExitStatus();
    if (status != null) return status;
    Signal signal = cmd.getExitSignal();
    int number = signal == null ? -1 : signalNumber(signal);
    return number < 0 ? -1 : 128 + number;
  }

  private static int signalNumber(Signal signal) {
    return switch (signal) {
      case HUP -> 1;
      case INT -> 2;
      case QUIT -> 3;
      case ILL -> 4;
      case ABRT -> 6;
      case FPE -> 8;
      case KILL -> 9;
      case USR1 -> 10;
      case SEGV -> 11;
      case USR2 -> 12;
      case PIPE -> 13;
      case ALRM -> 14;
      case TERM -> 15;
      default -> -1;
    };
  }
}
