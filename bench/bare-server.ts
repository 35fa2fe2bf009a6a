// The peer for the framework-overhead benchmark: bare fastify answering an ASF echo request with
// the same bytes our stack returns, with no validation, no loader hop and no wrapper.
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024 });

app.post('/v1/private/echo', async (req, reply) => {
  const body = req.body as { payload: { text: { text: string } } };
  const text = body.payload.text.text;
  return reply
    .type('application/json')
    .send(
      `{"header":{"code":0,"message":"success","sid":"bare"},"payload":{"result":{"text":${JSON.stringify(text)},"encoding":"utf8","format":"plain","seq":0,"status":3}}}`,
    );
});

await app.listen({ host: '127.0.0.1', port });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);
