// The run card: how the run was configured, in one line, expandable to the settings that differ
// from the defaults (first), the run's identity (id, start, files), every setting, and the
// normalised experiment as JSON on demand.
import type { NormalisedExperiment } from '../protocol/experiment';
import type { RunResult } from '../protocol/result';
import {
  experimentSettings,
  formatDuration,
  runSettingsSummary,
  settingChangeText,
  settingsDiff,
  type ExperimentSetting,
  type SettingChange,
} from '../protocol/format';
import { h, setChildren } from './dom';

export interface RunCardInput {
  result: RunResult;
  /** The defaults to compare with (from the host); null where unknown (a standalone report). */
  defaults: NormalisedExperiment | null;
  resultFile?: string;
}

export interface RunCard {
  readonly el: HTMLElement;
  update(input: RunCardInput): void;
}

const GROUP_TITLES: Record<ExperimentSetting['group'], string> = {
  experiment: 'Experiment',
  tasks: 'Tasks',
  model: 'Model',
  training: 'Training',
  strategy: 'Strategy',
  landscape: 'Loss landscape',
};

/** "3 settings differ from the defaults", "all settings are defaults", "" when the defaults are unknown. */
export function diffCountText(diff: readonly SettingChange[] | null): string {
  if (!diff) return '';
  if (!diff.length) return 'every setting is a default';
  return `${diff.length} setting${diff.length === 1 ? ' differs' : 's differ'} from the defaults`;
}

const localTime = (iso: string | undefined) => {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleString() : '—';
};

export function createRunCard(doc: Document): RunCard {
  const el = h(doc, 'details', { class: 'run-card', 'data-testid': 'run-card' });
  const summary = h(doc, 'summary', { class: 'run-card-summary' });
  const heading = h(doc, 'span', { class: 'run-card-heading' }, 'Run settings');
  const line = h(doc, 'span', { class: 'run-card-line', 'data-testid': 'run-summary' });
  const count = h(doc, 'span', { class: 'run-card-count muted', 'data-testid': 'run-diff-count' });
  summary.append(heading, line, count);

  const body = h(doc, 'div', { class: 'run-card-body' });
  const diffSection = h(doc, 'section', { class: 'run-card-section', 'data-testid': 'run-diff' });
  const diffList = h(doc, 'dl', { class: 'settings' });
  diffSection.append(h(doc, 'h3', {}, 'Differs from the defaults'), diffList);
  const identity = h(doc, 'dl', { class: 'settings', 'data-testid': 'run-identity' });
  const identitySection = h(doc, 'section', { class: 'run-card-section' });
  identitySection.append(h(doc, 'h3', {}, 'Run'), identity);
  const allSection = h(doc, 'section', { class: 'run-card-section', 'data-testid': 'run-settings-all' });
  const allList = h(doc, 'div', { class: 'settings-groups' });
  allSection.append(h(doc, 'h3', {}, 'Every setting'), allList);
  // The JSON is built only when asked for: it can be long (benchmarks with many tasks).
  const json = h(doc, 'details', { class: 'run-json', 'data-testid': 'run-json' });
  const jsonPre = h(doc, 'pre', { class: 'run-json-text' });
  json.append(h(doc, 'summary', {}, 'Normalised experiment (JSON)'), jsonPre);
  body.append(diffSection, identitySection, allSection, json);
  el.append(summary, body);

  let current: RunCardInput | null = null;
  const fillJson = () => {
    if (json.open && current) jsonPre.textContent = JSON.stringify(current.result.experiment, null, 2);
  };
  json.addEventListener('toggle', fillJson);

  const pair = (dt: string, dd: Node | string, attrs: Record<string, string> = {}) => {
    const ddEl = h(doc, 'dd', attrs);
    if (typeof dd === 'string') ddEl.textContent = dd;
    else ddEl.append(dd);
    return [h(doc, 'dt', {}, dt), ddEl];
  };

  let drawnKey = '';
  return {
    el,
    update(input) {
      current = input;
      const r = input.result;
      const ex = r.experiment;
      const diff = input.defaults && ex ? settingsDiff(ex, input.defaults) : null;
      const key = JSON.stringify([ex, input.defaults, r.runId, r.timing?.startedAt, r.timing?.finishedAt, r.experimentFile, input.resultFile, r.environment?.backend]);
      if (key === drawnKey) return;
      drawnKey = key;
      line.textContent = runSettingsSummary(ex);
      const countText = diffCountText(diff);
      count.textContent = countText ? `· ${countText}` : '';

      diffSection.hidden = diff === null;
      if (diff) {
        const items = diff.length
          ? diff.flatMap((c) => {
              const value = h(doc, 'span', {});
              value.append(h(doc, 'strong', {}, c.text), h(doc, 'span', { class: 'muted' }, c.other === '—' ? ' (no default)' : ` default ${c.other}`));
              return pair(c.label, value, { 'data-key': c.key, title: settingChangeText(c, false) });
            })
          : [h(doc, 'dd', { class: 'muted' }, 'Every setting is the default for this task list.')];
        setChildren(diffList, items);
      }

      const ids = [
        ...pair('run id', r.runId ?? '—', { 'data-testid': 'run-id' }),
        ...pair('started', localTime(r.timing?.startedAt), { 'data-testid': 'run-started' }),
      ];
      if (r.timing?.finishedAt) ids.push(...pair('finished', `${localTime(r.timing.finishedAt)}${r.timing.totalMs ? ` (took ${formatDuration(r.timing.totalMs)})` : ''}`));
      if (r.experimentFile) ids.push(...pair('experiment file', r.experimentFile, { class: 'path' }));
      if (input.resultFile) ids.push(...pair('result file', input.resultFile, { class: 'path' }));
      if (r.environment) ids.push(...pair('backend', `${r.environment.backend}, tfjs ${r.environment.tfjsVersion}, ${r.environment.platform}/${r.environment.arch}, ${r.environment.cpus} CPUs`));
      setChildren(identity, ids);

      const settings = ex ? experimentSettings(ex) : [];
      const groups = new Map<ExperimentSetting['group'], ExperimentSetting[]>();
      for (const s of settings) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
      const changed = new Set(diff?.map((c) => c.key) ?? []);
      setChildren(
        allList,
        [...groups].map(([group, list]) => {
          const g = h(doc, 'div', { class: 'settings-group' });
          const dl = h(doc, 'dl', { class: 'settings' });
          // Under its group's heading a label need not repeat the group ("landscape grid points" -> "grid points").
          const prefix = `${group} `;
          const short = (label: string) => (label.startsWith(prefix) && label.length > prefix.length ? label.slice(prefix.length) : label);
          dl.append(...list.flatMap((s) => pair(short(s.label), s.text, { 'data-key': s.key, class: changed.has(s.key) ? 'changed' : '' })));
          g.append(h(doc, 'h4', {}, GROUP_TITLES[group]), dl);
          return g;
        }),
      );
      fillJson();
    },
  };
}
