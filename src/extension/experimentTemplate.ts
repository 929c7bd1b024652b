// The file "New Continual Experiment" scaffolds: the quick demo (MNIST then Fashion-MNIST on
// subsets, about a minute on the wasm backend). No "$schema": the extension's jsonValidation gives
// every *.cl.json the schema, and a path to the installed extension would break after an update or
// on another machine. Pure (no vscode import).

export const NEW_EXPERIMENT_FILE = 'experiment.cl.json';

export function experimentTemplate(): string {
  // The settings of examples/quick-demo.cl.json.
  const experiment = {
    name: 'MNIST then Fashion-MNIST (quick demo)',
    seed: 0,
    tasks: [
      { dataset: 'mnist', train: 2000, test: 1000 },
      { dataset: 'fashion-mnist', train: 2000, test: 1000 },
    ],
    model: { preset: 'small-cnn' },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 10, evalSamples: 500 },
    landscape: { grid: 9, samples: 200, checkpointEvery: 4, linePoints: 21 },
  };
  return JSON.stringify(experiment, null, 2) + '\n';
}

/** experiment.cl.json, experiment-2.cl.json, ...: the first name `exists` says is free. */
export function freeExperimentName(exists: (name: string) => boolean): string {
  if (!exists(NEW_EXPERIMENT_FILE)) return NEW_EXPERIMENT_FILE;
  for (let i = 2; ; i++) {
    const name = NEW_EXPERIMENT_FILE.replace(/\.cl\.json$/, `-${i}.cl.json`);
    if (!exists(name)) return name;
  }
}
