// Runs the shop alone: `node apps/demo/shop/main.mjs [port]`, or instrumented with
// `node --import ringside/register apps/demo/shop/main.mjs`. Ctrl-C stops it.
import { startShop } from './server.mjs'

const shop = await startShop({ port: Number(process.argv[2] ?? 8080) })
process.stdout.write(`shop listening on ${shop.url}\n`)
const stop = () => void shop.close().then(() => process.exit(0))
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
