package io.runbook.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.deser.std.FromStringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.runbook.event.Event;
import java.time.Instant;

/**
 * One event as one line of JSON: {@code {"event":"step_finished","at":"…",...fields}}. The journal
 * and {@code --json} share this form, so a journal can be replayed or piped through {@code jq}
 * alike.
 */
public final class EventJson {
  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(
              new SimpleModule()
                  .addSerializer(Instant.class, ToStringSerializer.instance)
                  .addDeserializer(
                      Instant.class,
                      new FromStringDeserializer<>(Instant.class) {
                        @Override
                        protected Instant _deserialize(String value, DeserializationContext ctxt) {
                          return Instant.parse(value);
                        }
                      }))
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .setSerializationInclusion(JsonInclude.Include.NON_NULL)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private EventJson() {}

  public static String line(Event event) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("event", event.eventType());
    node.setAll((ObjectNode) MAPPER.valueToTree(event));
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
