import type { Socket } from 'node:net';

/**
 * Makes what one event-loop turn writes to the socket leave in one `writev`, instead of a syscall
 * (and, on loopback, a wake-up of the receiver) per write. A writer's own cork is nested inside
 * the turn's, so its uncork does not flush early.
 *
 * Self-contained on purpose: the SMTP thread embeds this function's source in its own.
 */
export function coalesceWritesPerTurn(socket: Socket): void {
  const { cork, write } = socket;
  let held = false;
  const holdTurn = () => {
    if (held) return;
    held = true;
    cork.call(socket);
    setImmediate(() => {
      held = false;
      socket.uncork();
    });
  };
  socket.cork = () => {
    holdTurn();
    cork.call(socket);
  };
  socket.write = ((...args: Parameters<Socket['write']>) => {
    holdTurn();
    return write.apply(socket, args);
  }) as Socket['write'];
}
