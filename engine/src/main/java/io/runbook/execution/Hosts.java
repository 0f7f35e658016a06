package io.runbook.execution;

import java.net.InetAddress;

/** Facts about the controller. */
public final class Hosts {
  private Hosts() {}

  /** This machine's name, for run journals and host locks. */
  public static String controller() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }
}
