/** Resolves at SIGINT or SIGTERM. */
export async function untilSignal(): Promise<void> {
  // Signal listeners do not keep Node's event loop alive; this timer does, until a signal comes.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
}
