package io.runbook.transport;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * An output stream that keeps only the last {@code capacity} bytes written to it, and counts all.
 */
public final class TailBuffer extends OutputStream {
  private final int capacity;
  private byte[] buf = new byte[256];
  private int start;
  private int size;
  private long total;

  public TailBuffer(int capacity) {
    this.capacity = Math.max(1, capacity);
  }

  @Override
  public synchronized void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    total += len;
    if (len >= capacity) {
      ensure(capacity);
      System.arraycopy(b, off + len - capacity, buf, 0, capacity);
      start = 0;
      size = capacity;
      return;
    }
    ensure(Math.min(capacity, size + len));
    for (int i = 0; i < len; i++) {
      int pos = (start + size) % buf.length;
      buf[pos] = b[off + i];
      if (size < buf.length) size++;
      else start = (start + 1) % buf.length;
    }
  }

  private void ensure(int needed) {
    if (needed <= buf.length) return;
    byte[] bigger = new byte[Math.min(capacity, Math.max(needed, buf.length * 2))];
    byte[] cur = toByteArray();
    System.arraycopy(cur, 0, bigger, 0, cur.length);
    buf = bigger;
    start = 0;
  }

  public synchronized byte[] toByteArray() {
    byte[] out = new byte[size];
    for (int i = 0; i < size; i++) out[i] = buf[(start + i) % buf.length];
    return out;
  }

  public synchronized long total() {
    return total;
  }

  @Override
  public String toString() {
    return "TailBuffer" + Arrays.toString(new long[] {size, total});
  }
}
