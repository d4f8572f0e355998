const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * The first HTTP/1.1 message of a buffer: its head, and its length with the body (`total`, absent
 * when the head has no Content-Length); 'incomplete' until all of it has arrived.
 */
export type Framed = 'incomplete' | { head: string; total?: number };

/**
 * Frames one HTTP/1.1 message with a Content-Length body off a keep-alive stream: what the
 * bench's hand-rolled load generator and provider sink need (their node:http counterparts cost
 * more CPU than the work they stand in for, on the cores of the service measured), and tests that
 * look at how requests arrive on a connection.
 */
export function frame(buffered: Buffer): Framed {
  const end = buffered.indexOf(HEADER_END);
  if (end < 0) return 'incomplete';
  const head = buffered.toString('latin1', 0, end);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!length) return { head };
  const total = end + HEADER_END.length + Number(length[1]);
  return buffered.length < total ? 'incomplete' : { head, total };
}
