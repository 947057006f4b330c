/** Entry of `npm run dev` (scripts/dev.sh): see dev/server.ts. */
import { runDev } from './server';

void runDev(process.argv.slice(2));
