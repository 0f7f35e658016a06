package io.runbook.yaml;

import java.nio.file.Path;
import java.util.Map;

/**
 * A parsed YAML file as plain Java values (Map, List, String, Long, Double, Boolean, null) together
 * with the location of every value and every mapping key, addressed by JSON Pointer ({@code
 * /modes/binary/0}). JSON-Schema errors, which name instance locations as pointers, map straight
 * back to {@code file:line:col}.
 */
public record YamlDocument(
    Path path,
    String displayName,
    Object root,
    Map<String, Location> valueLocations,
    Map<String, Location> keyLocations) {

  /**
   * Where the value at {@code pointer} starts, or the nearest enclosing value that has a location.
   */
  public Location location(String pointer) {
    String p = pointer == null ? "" : pointer;
    while (true) {
      Location l = valueLocations.get(p);
      if (l != null) return l;
      if (p.isEmpty()) return Location.of(displayName);
      p = p.substring(0, p.lastIndexOf('/'));
    }
  }

  /** Where the key of the entry at {@code pointer} starts; falls back to the value's location. */
  public Location keyLocation(String pointer) {
    Location l = keyLocations.get(pointer);
    return l != null ? l : location(pointer);
  }

  /** Appends an escaped JSON Pointer segment. */
  public static String child(String pointer, Object segment) {
    return pointer + "/" + String.valueOf(segment).replace("~", "~0").replace("/", "~1");
  }
}
