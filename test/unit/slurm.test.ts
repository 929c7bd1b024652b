// Sweeps on Slurm without a cluster: the job-array script (run by bash with a stand-in for node),
// the parsers on output captured from Slurm 22.05 (squeue, scontrol, the job completion log, sacct,
// sbatch --parsable), the run states they give, and submit/resubmit against a scripted exec.
// The real cluster is test/e2e/slurm.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SWEEP_FILE, SWEEP_FORMAT_VERSION, type SweepIndex } from '../../src/protocol/sweep';
import {
  arraySpec,
  parseArraySpec,
  parseJobCompLog,
  parseKeyValues,
  parseSacct,
  parseSbatchParsable,
  parseScontrolJobs,
  parseSlurmConfig,
  parseSqueue,
  SlurmCommandError,
  slurmStatus,
  submitSlurmSweep,
  writeSlurmScript,
  type ExecResult,
  type SlurmExec,
} from '../../src/engine/sweep/slurm';
import { formatSlurmStatus, submitSweepToSlurm } from '../../src/cli/slurm';

const tmpRoot = mkdtempSync(join(tmpdir(), 'clw-slurm-unit-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

// ---- captured from Slurm 22.05 on a one-node cluster (scripts/slurm-cluster.sh) ----------------
const SQUEUE_OUT = ['7|0|RUNNING|None', '7|1|RUNNING|None', '7|2|PENDING|Resources', '7|3|PENDING|Priority', '9|N/A|RUNNING|None', ''].join('\n');
const SCONTROL_OUT = `JobId=7 ArrayJobId=7 ArrayTaskId=2-3 JobName=clw test
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   JobState=PENDING Reason=Resources Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   SubmitTime=2026-11-30T00:04:33 EligibleTime=Unknown
   Command=/tmp/sl test/job.sh
   StdOut=/tmp/sl test/slurm/7_4294967294.log
   Power=
   

JobId=8 ArrayJobId=7 ArrayTaskId=1 JobName=clw test
   UserId=root(0) GroupId=root(0) MCS_label=N/A
   JobState=FAILED Reason=NonZeroExitCode Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0
   SubmitTime=2026-11-30T00:04:33 EligibleTime=2026-11-30T00:04:35
   StdOut=/tmp/sl test/slurm/7_1.log
   Power=
   

JobId=7 ArrayJobId=7 ArrayTaskId=0 JobName=clw test
   JobState=COMPLETED Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   SubmitTime=2026-11-30T00:04:33 EligibleTime=2026-11-30T00:04:35
   Power=
`;
const JOBCOMP_OUT = [
  'JobId=2 UserId=root(0) GroupId=root(0) Name=clw test JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-30T00:04:35 EndTime=2026-11-30T00:04:39 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=24105M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-30T00:04:33 EligibleTime=2026-11-30T00:04:35 ArrayJobId=1 ArrayTaskId=0 DerivedExitCode=0:0 ExitCode=0:0 ',
  'JobId=1 UserId=root(0) GroupId=root(0) Name=clw test JobState=FAILED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-30T00:04:40 EndTime=2026-11-30T00:04:45 NodeList=vm NodeCnt=1 ProcCnt=1 WorkDir=/tmp ReservationName= Tres=cpu=1,mem=24105M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-30T00:04:33 EligibleTime=2026-11-30T00:04:35 ArrayJobId=1 ArrayTaskId=3 DerivedExitCode=0:0 ExitCode=3:0 ',
  'JobId=5 UserId=root(0) GroupId=root(0) Name=other JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED SubmitTime=2026-11-30T00:04:33 DerivedExitCode=0:0 ExitCode=0:0 ',
  '',
].join('\n');

describe('array specs', () => {
  test('indices compress to ranges and expand back', () => {
    assert.equal(arraySpec([5, 0, 1, 2, 7, 8, 8]), '0-2,5,7-8');
    assert.equal(arraySpec([3]), '3');
    assert.deepEqual(parseArraySpec('0-2,5,7-8'), [0, 1, 2, 5, 7, 8]);
    assert.deepEqual(parseArraySpec('[0-3]%2'), [0, 1, 2, 3]);
    assert.deepEqual(parseArraySpec('0-6:3'), [0, 3, 6]);
    assert.deepEqual(parseArraySpec('N/A'), []);
    for (const xs of [[0], [1, 2, 3, 9], [0, 2, 4, 5, 6, 10]]) assert.deepEqual(parseArraySpec(arraySpec(xs)), xs);
  });
});

describe('the job-array script', () => {
  const sweepDir = join(tmpRoot, "my sweep's folder");
  const runs = [
    { index: 0, folder: 'runs/000-naive-seed-0' },
    { index: 1, folder: 'runs/001-naive seed 1' },
    { index: 2, folder: "runs/002-it's" },
  ];
  const script = writeSlurmScript({ sweepDir, jobName: 'clw-demo', runs, indices: [0, 2], node: '/opt/node 20/bin/node', cliPath: '/srv/clw/dist/cli.js', partition: 'gpu', time: '00:30:00' });

  test('the #SBATCH lines: array of the given indices, output per array task, options', () => {
    const sbatch = script.split('\n').filter((l) => l.startsWith('#SBATCH'));
    assert.deepEqual(sbatch, [
      '#SBATCH --job-name="clw-demo"',
      '#SBATCH --array=0,2',
      `#SBATCH --output="${sweepDir}/slurm/%A_%a.log"`,
      `#SBATCH --chdir="${sweepDir}"`,
      '#SBATCH --cpus-per-task=1',
      '#SBATCH --partition="gpu"',
      '#SBATCH --time="00:30:00"',
    ]);
    assert.ok(script.startsWith('#!/bin/bash\n'));
  });

  test('bash runs the CLI on the run of $SLURM_ARRAY_TASK_ID, paths with spaces and quotes intact', () => {
    // Stand-in for node: prints its arguments one per line.
    const fakeNode = join(tmpRoot, 'fake node');
    writeFileSync(fakeNode, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(fakeNode, 0o755);
    const s = writeSlurmScript({ sweepDir, jobName: 'j', runs, indices: [0, 1, 2], node: fakeNode, cliPath: '/srv/clw/dist/cli.js' });
    for (const r of runs) {
      const p = spawnSync('bash', ['-c', s], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(r.index), SLURM_ARRAY_JOB_ID: '42' }, encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr);
      const lines = p.stdout.trim().split('\n');
      assert.match(lines[0], new RegExp(`^continual-workbench: run ${r.index} .*array job 42`));
      assert.deepEqual(lines.slice(1), ['/srv/clw/dist/cli.js', 'run', `${sweepDir}/${r.folder}/experiment.cl.json`, '--out', `${sweepDir}/${r.folder}`]);
    }
    const bad = spawnSync('bash', ['-c', s], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '7' }, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no run with array index 7/);
  });

  test('refuses indices that are not runs, and a folder Slurm cannot quote', () => {
    assert.throws(() => writeSlurmScript({ sweepDir, jobName: 'j', runs, indices: [3], node: 'node', cliPath: 'cli.js' }), /no run with array index 3/);
    assert.throws(() => writeSlurmScript({ sweepDir: '/a"b', jobName: 'j', runs, indices: [0], node: 'node', cliPath: 'cli.js' }), /double quote/);
    // A literal % in the folder is %% for Slurm's filename patterns.
    assert.match(writeSlurmScript({ sweepDir: '/r/100%', jobName: 'j', runs, indices: [0], node: 'n', cliPath: 'c' }), /--output="\/r\/100%%\/slurm\/%A_%a\.log"/);
  });
});

describe('parsing Slurm output', () => {
  test('sbatch --parsable: job id, with or without a cluster name', () => {
    assert.equal(parseSbatchParsable('123\n'), '123');
    assert.equal(parseSbatchParsable('456;clusterA\n'), '456');
    assert.throws(() => parseSbatchParsable('sbatch: error: Batch job submission failed\n'), /no job id/);
  });

  test('squeue -r: one record per array task, non-array jobs skipped', () => {
    const r = parseSqueue(SQUEUE_OUT);
    assert.deepEqual(
      r.map((x) => [x.arrayJobId, x.index, x.state, x.reason]),
      [
        ['7', 0, 'RUNNING', 'None'],
        ['7', 1, 'RUNNING', 'None'],
        ['7', 2, 'PENDING', 'Resources'],
        ['7', 3, 'PENDING', 'Priority'],
      ],
    );
  });

  test('scontrol show job: values with spaces, pending ranges expanded, exit codes', () => {
    const kv = parseKeyValues('JobId=7 ArrayJobId=7 ArrayTaskId=2-3 JobName=clw test JobState=PENDING');
    assert.equal(kv.JobName, 'clw test');
    const r = parseScontrolJobs(SCONTROL_OUT);
    assert.deepEqual(
      r.map((x) => [x.arrayJobId, x.index, x.state, x.exitCode, x.reason]),
      [
        ['7', 2, 'PENDING', '0:0', 'Resources'],
        ['7', 3, 'PENDING', '0:0', 'Resources'],
        ['7', 1, 'FAILED', '3:0', 'NonZeroExitCode'],
        ['7', 0, 'COMPLETED', '0:0', undefined],
      ],
    );
  });

  test('the job completion log: ended array tasks with state and exit code; plain jobs skipped', () => {
    const r = parseJobCompLog(JOBCOMP_OUT);
    assert.deepEqual(
      r.map((x) => [x.arrayJobId, x.index, x.state, x.exitCode, x.submitTime]),
      [
        ['1', 0, 'COMPLETED', '0:0', '2026-11-30T00:04:33'],
        ['1', 3, 'FAILED', '3:0', '2026-11-30T00:04:33'],
      ],
    );
  });

  test('sacct -P -X: array tasks, pending ranges, "CANCELLED by uid"', () => {
    const r = parseSacct(['12_0|COMPLETED|0:0|2026-11-30T00:04:33', '12_1|CANCELLED by 0|0:15|2026-11-30T00:04:33', '12_[2-3]|PENDING|0:0|2026-11-30T00:04:33', '13|COMPLETED|0:0|x', '12_0.batch|COMPLETED|0:0|x'].join('\n'));
    assert.deepEqual(
      r.map((x) => [x.index, x.state, x.exitCode]),
      [
        [0, 'COMPLETED', '0:0'],
        [1, 'CANCELLED', '0:15'],
        [2, 'PENDING', '0:0'],
        [3, 'PENDING', '0:0'],
      ],
    );
  });

  test('scontrol show config', () => {
    const c = parseSlurmConfig('Configuration data as of 2026-11-30T00:04:00\nAccountingStorageType   = accounting_storage/none\nJobCompLoc              = /var/log/jobcomp.log\nMinJobAge               = 600 sec\n');
    assert.equal(c.AccountingStorageType, 'accounting_storage/none');
    assert.equal(c.JobCompLoc, '/var/log/jobcomp.log');
    assert.equal(c.MinJobAge, '600 sec');
  });
});

// ---- a sweep folder and a scripted Slurm --------------------------------------------------------

function makeSweep(name: string, n: number): string {
  const dir = join(tmpRoot, name);
  const runs = Array.from({ length: n }, (_, i) => ({ index: i, folder: `runs/${String(i).padStart(3, '0')}-seed-${i}`, params: { seed: i }, seed: i }));
  for (const r of runs) {
    mkdirSync(join(dir, r.folder), { recursive: true });
    writeFileSync(join(dir, r.folder, 'experiment.cl.json'), JSON.stringify({ name, seed: r.seed }));
  }
  const index: SweepIndex = { formatVersion: SWEEP_FORMAT_VERSION, kind: 'sweep', name, experimentFile: join(tmpRoot, `${name}.cl.json`), createdAt: new Date().toISOString(), axes: [{ path: 'seed', values: runs.map((r) => r.seed) }], runs, executor: { type: 'slurm', submissions: [] } };
  writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(index));
  return dir;
}

const SAMPLE_RESULT = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sample-result.json'), 'utf8')) as Record<string, unknown>;

/** A run's result.json with this status; a running one also holds its run.lock (this process), as a live trainer does. */
function writeResult(dir: string, folder: string, status: string, error?: string) {
  writeFileSync(join(dir, folder, 'result.json'), JSON.stringify({ ...SAMPLE_RESULT, status, ...(error ? { error: { phase: 'data', message: error } } : {}) }));
  if (status === 'running') writeFileSync(join(dir, folder, 'run.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() }));
}

const readIndex = (dir: string) => JSON.parse(readFileSync(join(dir, SWEEP_FILE), 'utf8')) as SweepIndex;

/** A Slurm whose commands answer from a table (keyed by "command arg0"), recording every call. */
function scriptedSlurm(answers: Record<string, ExecResult | ((args: string[]) => ExecResult)>) {
  const calls: string[][] = [];
  const exec: SlurmExec = async (cmd, args) => {
    calls.push([cmd, ...args]);
    const a = answers[`${cmd} ${args[0] ?? ''}`.trim()] ?? answers[cmd];
    if (!a) return { code: 1, stdout: '', stderr: `${cmd}: not scripted` };
    return typeof a === 'function' ? a(args) : a;
  };
  return { exec, calls };
}
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });

describe('run states from the run folders and Slurm', () => {
  test('completed, running, pending, failed (exit code, no result, result says failed), cancelled, missing: each with its log', async () => {
    const dir = makeSweep('states', 9);
    const jobcomp = join(dir, 'jobcomp.log');
    const sub = { jobId: '40', arrayIndices: [0, 1, 2, 3, 4, 5, 6, 7], submittedAt: '2026-11-30T00:00:00.000Z', script: 'slurm/submit-1.sh' };
    const ix = readIndex(dir);
    ix.executor = { type: 'slurm', submissions: [sub] };
    writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(ix));
    mkdirSync(join(dir, 'slurm'));
    writeResult(dir, 'runs/000-seed-0', 'completed');
    writeResult(dir, 'runs/001-seed-1', 'running');
    // 3: the array task failed before writing anything; 4: it exited 0 without a result; 5: gone from Slurm, log left.
    for (const i of [3, 4, 5]) writeFileSync(join(dir, 'slurm', `40_${i}.log`), `task ${i}\n`);
    writeResult(dir, 'runs/006-seed-6', 'failed', "dataset 'idx': no such folder /nope\nLooked in: ...");
    writeFileSync(
      jobcomp,
      [
        // An older job 40 from before the cluster's state was wiped: ignored.
        'JobId=40 Name=old JobState=COMPLETED SubmitTime=2020-01-01T00:00:00 ArrayJobId=40 ArrayTaskId=5 ExitCode=0:0',
        `JobId=44 Name=clw JobState=FAILED SubmitTime=${localSlurmTime(sub.submittedAt)} ArrayJobId=40 ArrayTaskId=3 ExitCode=2:0`,
        `JobId=48 Name=clw JobState=CANCELLED SubmitTime=${localSlurmTime(sub.submittedAt)} ArrayJobId=40 ArrayTaskId=7 ExitCode=0:15`,
      ].join('\n'),
    );
    const { exec, calls } = scriptedSlurm({
      'scontrol show': (args) => (args[1] === 'config' ? ok(`AccountingStorageType = accounting_storage/none\nJobCompType = jobcomp/filetxt\nJobCompLoc = ${jobcomp}\n`) : ok(`JobId=45 ArrayJobId=40 ArrayTaskId=4 JobName=clw\n JobState=COMPLETED Reason=None ExitCode=0:0 SubmitTime=${localSlurmTime(sub.submittedAt)}\n\n`)),
      squeue: ok('40|1|RUNNING|None\n40|2|PENDING|Resources\n41|0|RUNNING|None\n'),
    });
    const rows = await slurmStatus(dir, { exec, user: 'someone' });
    assert.deepEqual(
      rows.map((r) => [r.index, r.state, r.slurmState ?? null]),
      [
        [0, 'completed', null],
        [1, 'running', 'RUNNING'],
        [2, 'pending', 'PENDING'],
        [3, 'failed', 'FAILED'],
        [4, 'failed', 'COMPLETED'],
        [5, 'failed', null],
        [6, 'failed', null],
        [7, 'cancelled', 'CANCELLED'],
        [8, 'missing', null],
      ],
    );
    // Every failed run names its log; the messages say why.
    for (const r of rows.filter((x) => x.state === 'failed')) assert.equal(r.log, join(dir, 'slurm', `40_${r.index}.log`));
    assert.match(rows[3].message!, /FAILED \(exit code 2:0\)/);
    assert.match(rows[4].message!, /without a completed result\.json/);
    assert.match(rows[2].message!, /Resources/);
    assert.match(rows[8].message!, /not submitted/);
    assert.equal(rows[6].message, "the run failed (dataset 'idx': no such folder /nope)");
    assert.ok(calls.some((c) => c.join(' ') === `squeue -h -r -u someone -o %F|%K|%T|%r`));
    const table = formatSlurmStatus(dir, rows);
    assert.match(table, /failed\s+40_3\s+FAILED\s+runs\/003-seed-3 .*log: slurm\/40_3\.log/);
    assert.match(table, /1 completed, 1 running, 1 pending, 4 failed, 1 cancelled, 1 missing$/);
  });

  test('a run whose trainer still looks alive but whose array task ended (TIMEOUT) is failed, with its log', async () => {
    const dir = makeSweep('timeout', 1);
    const ix = readIndex(dir);
    ix.executor = { type: 'slurm', submissions: [{ jobId: '61', arrayIndices: [0], submittedAt: new Date().toISOString(), script: 's' }] };
    writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(ix));
    writeResult(dir, 'runs/000-seed-0', 'running');
    mkdirSync(join(dir, 'slurm'));
    writeFileSync(join(dir, 'slurm', '61_0.log'), 'slurmstepd: error: *** JOB 61 ON vm CANCELLED AT 2026-11-30T01:00:00 DUE TO TIME LIMIT ***\n');
    const { exec } = scriptedSlurm({
      'scontrol show': (args) => (args[1] === 'config' ? ok('JobCompType = jobcomp/none\n') : ok('JobId=61 ArrayJobId=61 ArrayTaskId=0 JobName=clw\n JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15\n')),
      squeue: ok(''),
    });
    const [row] = await slurmStatus(dir, { exec });
    assert.equal(row.state, 'failed');
    assert.equal(row.slurmState, 'TIMEOUT');
    assert.match(row.message!, /ended TIMEOUT \(exit code 0:15\)/);
    assert.equal(row.log, join(dir, 'slurm', '61_0.log'));
  });

  test('when squeue cannot be asked, unfinished runs are missing (not failed), and say so', async () => {
    const dir = makeSweep('noqueue', 1);
    const ix = readIndex(dir);
    ix.executor = { type: 'slurm', submissions: [{ jobId: '3', arrayIndices: [0], submittedAt: new Date().toISOString(), script: 's' }] };
    writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(ix));
    const { exec } = scriptedSlurm({ squeue: { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Unable to contact slurm controller' } });
    const [row] = await slurmStatus(dir, { exec });
    assert.equal(row.state, 'missing');
    assert.match(row.message!, /could not be asked/);
  });
});

/** An ISO time as Slurm prints it in local time, no zone. */
function localSlurmTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe('submit and resubmit', () => {
  test('the first submission skips completed runs and is recorded in sweep.json', async () => {
    const dir = makeSweep('submit', 4);
    writeResult(dir, 'runs/001-seed-1', 'completed');
    const { exec, calls } = scriptedSlurm({ sbatch: ok('77\n') });
    const r = await submitSlurmSweep(dir, { cliPath: '/srv/clw/dist/cli.js', node: '/usr/bin/node', partition: 'short', time: '1:00:00', exec });
    assert.equal(r.kind, 'submitted');
    assert.ok(r.kind === 'submitted');
    assert.deepEqual(r.indices, [0, 2, 3]);
    assert.deepEqual(r.skipped, [1]);
    assert.deepEqual(calls, [['sbatch', '--parsable', join(dir, 'slurm', 'submit-1.sh')]]);
    const script = readFileSync(join(dir, 'slurm', 'submit-1.sh'), 'utf8');
    assert.match(script, /^#SBATCH --array=0,2-3$/m);
    assert.match(script, /^#SBATCH --partition="short"$/m);
    const ex = readIndex(dir).executor;
    assert.ok(ex.type === 'slurm');
    assert.equal(ex.partition, 'short');
    assert.equal(ex.time, '1:00:00');
    assert.deepEqual(ex.submissions.map((s) => [s.jobId, s.arrayIndices, s.script]), [['77', [0, 2, 3], 'slurm/submit-1.sh']]);
    await assert.rejects(submitSlurmSweep(dir, { cliPath: 'c', exec }), /already submitted to Slurm \(job 77\)/);
  });

  test('a resubmission runs only the runs that are neither completed nor queued/running', async () => {
    const dir = makeSweep('resubmit', 5);
    const ix = readIndex(dir);
    ix.executor = { type: 'slurm', submissions: [{ jobId: '50', arrayIndices: [0, 1, 2, 3, 4], submittedAt: new Date().toISOString(), script: 'slurm/submit-1.sh' }], time: '0:10:00' };
    writeFileSync(join(dir, SWEEP_FILE), JSON.stringify(ix));
    writeResult(dir, 'runs/000-seed-0', 'completed');
    writeResult(dir, 'runs/002-seed-2', 'failed');
    mkdirSync(join(dir, 'slurm'));
    writeFileSync(join(dir, 'slurm', '50_3.log'), 'Error: ENOENT\n');
    const { exec, calls } = scriptedSlurm({ 'scontrol show': ok(''), squeue: ok('50|4|RUNNING|None\n'), sbatch: ok('51;local\n') });
    const r = await submitSlurmSweep(dir, { cliPath: '/srv/clw/dist/cli.js', resubmit: true, exec });
    assert.ok(r.kind === 'submitted');
    assert.deepEqual(r.indices, [1, 2, 3]);
    assert.deepEqual(r.skipped, [0, 4]);
    assert.match(readFileSync(join(dir, 'slurm', 'submit-2.sh'), 'utf8'), /^#SBATCH --array=1-3$/m);
    // The time limit of the first submission carries over.
    assert.match(readFileSync(join(dir, 'slurm', 'submit-2.sh'), 'utf8'), /^#SBATCH --time="0:10:00"$/m);
    const ex = readIndex(dir).executor;
    assert.ok(ex.type === 'slurm');
    assert.deepEqual(ex.submissions.map((s) => s.jobId), ['50', '51']);
    assert.ok(calls.some((c) => c[0] === 'sbatch'));
    // The runs now point at job 51: 1-3 are pending there (run 2's failed result is the last attempt's).
    const queued = '51|1|PENDING|Priority\n51|2|PENDING|Priority\n51|3|PENDING|Priority\n50|4|RUNNING|None\n';
    const after = await slurmStatus(dir, { exec: scriptedSlurm({ 'scontrol show': ok(''), squeue: ok(queued) }).exec });
    assert.deepEqual(after.map((s) => [s.state, s.jobId]), [['completed', '50'], ['pending', '51'], ['pending', '51'], ['pending', '51'], ['running', '50']]);
    // Once job 51 has left the queue without a new result, run 2 is failed again (its old result), 1 and 3 by their logs' absence: missing.
    const gone = await slurmStatus(dir, { exec: scriptedSlurm({ 'scontrol show': ok(''), squeue: ok('') }).exec });
    assert.deepEqual(gone.map((s) => s.state), ['completed', 'missing', 'failed', 'missing', 'missing']);
  });

  test('nothing to submit when every run completed; sbatch refusing is an error with its message, nothing recorded', async () => {
    const dir = makeSweep('done', 2);
    writeResult(dir, 'runs/000-seed-0', 'completed');
    writeResult(dir, 'runs/001-seed-1', 'completed');
    const r = await submitSlurmSweep(dir, { cliPath: 'c', exec: scriptedSlurm({}).exec });
    assert.deepEqual(r, { kind: 'nothing', reason: 'every run is completed', skipped: [0, 1] });

    const dir2 = makeSweep('refused', 2);
    const refuse = scriptedSlurm({ sbatch: { code: 1, stdout: '', stderr: 'sbatch: error: invalid partition specified: nope\n' } });
    await assert.rejects(submitSlurmSweep(dir2, { cliPath: 'c', partition: 'nope', exec: refuse.exec }), (e: unknown) => e instanceof SlurmCommandError && /invalid partition specified: nope/.test(e.message));
    const ex = readIndex(dir2).executor;
    assert.ok(ex.type === 'slurm' && ex.submissions.length === 0);

    const lines: string[] = [];
    const code = await submitSweepToSlurm(dir2, { cliPath: 'c', partition: 'nope', exec: refuse.exec, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /error: sbatch failed \(exit code 1\): sbatch: error: invalid partition/);
    assert.equal(await submitSweepToSlurm(join(tmpRoot, 'no-such-sweep'), { cliPath: 'c', exec: refuse.exec, err: (l) => lines.push(l) }), 2);
  });
});
