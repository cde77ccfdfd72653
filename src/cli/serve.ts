import { buildApp } from '../app.ts';
import { seedDemo } from '../services/demo.ts';
import { baseUrl, printDemo } from './admin.ts';
import type { Invocation } from './spec.ts';
import { openStore } from './store.ts';

/** `parley serve`: the HTTP server until SIGINT/SIGTERM; start-up failures reach main's explain(). */
export async function serve({ values, config }: Invocation): Promise<undefined> {
  // Opened here so a bad SQLITE_PATH fails fast and by name; the app closes it.
  const store = openStore(config, config.databasePoolSize);
  let built: Awaited<ReturnType<typeof buildApp>>;
  try {
    built = await buildApp(config, { periodic: true, logger: true, store });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const { app, ctx } = built;
  app.addHook('onClose', async () => store.close());
  try {
    if (values.demo) printDemo(baseUrl(config), await seedDemo(ctx));
    const shutdown = async (signal: string) => {
      app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      await app.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return undefined;
}
