// The single-run layout's view model: the panel's view (mode, actions) and the run's state.
import type { RunState } from '../../../protocol/runState';
import type { ViewModel } from '../../header';

export interface RunSubject {
  view: ViewModel;
  state: RunState;
}
