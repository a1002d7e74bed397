// Runs inside a network namespace (ip netns exec NS node netns-sender.mjs): reads
// {host, port, datagrams: [hex], timeoutMs} as JSON on stdin, sends each datagram over kernel UDP,
// and prints {replies: [hex]} when every datagram has had an answer or the timeout passes.
import { createSocket } from 'node:dgram';

const input = JSON.parse(
  await new Promise((resolve) => {
    let s = '';
    process.stdin.on('data', (d) => {
      s += d;
    });
    process.stdin.on('end', () => resolve(s));
  }),
);
const sock = createSocket('udp4');
await new Promise((r) => sock.bind(0, r));
const replies = [];
const want = input.expect ?? input.datagrams.length;
const done = new Promise((resolve) => {
  const timer = setTimeout(resolve, input.timeoutMs ?? 10000);
  sock.on('message', (m) => {
    replies.push(m.toString('hex'));
    if (replies.length >= want) {
      clearTimeout(timer);
      resolve();
    }
  });
});
// At most 64 requests in flight (beyond those expected to get no reply), so that no socket
// buffer overflows.
const unanswered = input.datagrams.length - want;
let wake;
sock.on('message', () => wake?.());
for (let i = 0; i < input.datagrams.length; i++) {
  while (i - unanswered - replies.length >= 64)
    await new Promise((r) => {
      wake = r;
      setTimeout(r, 50);
    });
  await new Promise((res, rej) => sock.send(Buffer.from(input.datagrams[i], 'hex'), input.port, input.host, (e) => (e ? rej(e) : res())));
}
await done;
sock.close();
process.stdout.write(JSON.stringify({ replies }));
