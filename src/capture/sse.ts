import { createParser } from 'eventsource-parser';

export interface StreamEvent {
  event?: string;
  data: string;
  /** `data` parsed as JSON; undefined for `[DONE]`, empty or unparseable data. */
  json: unknown;
}

/** Whether a captured body is a server-sent event stream rather than one JSON document. */
export function isEventStream(contentType: string | undefined, body: string): boolean {
  if (contentType && /^\s*text\/event-stream\b/i.test(contentType)) return true;
  const head = body.slice(0, 64).trimStart();
  // A stream cut within its first field name is still a stream.
  return /^(?:event|data|id|retry)?:/.test(head) || (head !== '' && ('data:'.startsWith(head) || 'event:'.startsWith(head)));
}

/**
 * Splits an event stream into events. Only complete events come out, so a stream cut mid-event
 * yields exactly the events before the cut.
 */
export function parseEventStream(text: string | Iterable<string>, { complete = true }: { complete?: boolean } = {}): StreamEvent[] {
  const events: StreamEvent[] = [];
  const parser = createParser({
    onEvent: (e) => {
      let json: unknown;
      if (e.data !== '' && e.data !== '[DONE]') {
        try {
          json = JSON.parse(e.data);
        } catch {
          json = undefined;
        }
      }
      events.push({ event: e.event, data: e.data, json });
    },
  });
  for (const chunk of typeof text === 'string' ? [text] : text) parser.feed(chunk);
  // A finished stream whose server omitted the final blank line still ends its last event.
  if (complete) parser.feed('\n\n');
  return events;
}
