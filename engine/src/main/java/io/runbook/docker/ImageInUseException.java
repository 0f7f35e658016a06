package io.runbook.docker;

import io.runbook.ErrorCode;
import io.runbook.RunbookException;

/**
 * An image name that cannot be removed without force because a container (maybe stopped) uses it.
 */
public final class ImageInUseException extends RunbookException {
  public ImageInUseException(String message) {
    super(ErrorCode.HOST_FAILED, message);
  }
}
