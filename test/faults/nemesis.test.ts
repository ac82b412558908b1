// The nemesis suite: every fault scenario with replica processes on a real
// redis-server, checked for exactly-once and liveness. npm test runs it at
// small scale; `npm run test:faults` (ATOMIK_FAULTS_SCALE=full) at full
// scale, printing each scenario's figures.
import { redisSkipReason } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';
import { itScenario } from './known-failures.js';
import { expectExactlyOnce, faultScale, formatResult, runScenario } from './nemesis.js';
import { clusterFailover, scenarios } from './scenarios.js';

// CI runs npm test once per addon loading path; the prebuild pass loads the
// same replication code and engine as the source-build pass, so the
// scenarios (a minute each pass) run in the other two.
const skip =
  redisSkipReason() ?? (process.env.ATOMIK_EXPECT_NATIVE === 'prebuild' ? 'the fault scenarios run in the source-build and no-addon passes of CI' : null);
const scale = faultScale();

describeUnless(skip, `nemesis: replica processes under faults, ${scale} scale`, () => {
  for (const scenario of [...scenarios(scale), clusterFailover(scale)]) {
    itScenario(
      scenario.key,
      scenario.title,
      async () => {
        const result = await runScenario(scenario, scale);
        console.log(formatResult(result));
        expectExactlyOnce(result);
      },
      scale === 'small' ? 120_000 : 1_800_000,
    );
  }
});
