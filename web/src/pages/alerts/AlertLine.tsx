import { memo, type KeyboardEvent, type MouseEvent } from 'react';
import { Link } from 'react-router';
import type { AlertSummary } from '../../api/types';
import { PriorityBadge, StatusBadge } from '../../components/AlertBadges';
import { age, when } from '../../lib/time';

/**
 * One alert of the list: a table row on a wide screen, a card on a phone. Plain elements styled by
 * app.css rather than Mantine components, and memoized: the list renders 50 of them, and Mantine's
 * per-component work in each was most of the time the list took to show (docs/performance.md).
 */
export interface AlertLineProps {
  alert: AlertSummary;
  index: number;
  /** Moved to by j/k: outlined. */
  focused: boolean;
  /** The row Tab reaches (one per list: the focused one, or the first). */
  tabbable: boolean;
  selected: boolean;
  /** The names of the teams it is routed to, joined. */
  teams: string;
  onToggle: (id: string) => void;
  onFocusLine: (index: number) => void;
  onOpen: (id: string) => void;
}

/** What the row or card itself does: open on a click outside its controls, select with the space bar. */
function lineProps({ alert, index, focused, tabbable, onToggle, onFocusLine, onOpen }: AlertLineProps) {
  return {
    'data-index': index,
    'data-focused': focused ? 'true' : 'false',
    tabIndex: tabbable ? 0 : -1,
    onFocus: () => onFocusLine(index),
    onClick: (e: MouseEvent) => {
      if ((e.target as HTMLElement).closest('a, button, input, label')) return;
      onOpen(alert.id);
    },
    onKeyDown: (e: KeyboardEvent) => {
      if (e.key === ' ' && e.target === e.currentTarget) {
        e.preventDefault();
        onToggle(alert.id);
      }
    },
  };
}

function SelectBox({ alert, selected, onToggle }: Pick<AlertLineProps, 'alert' | 'selected' | 'onToggle'>) {
  return (
    <input
      type="checkbox"
      className="alert-check"
      aria-label={`Select alert ${alert.tinyId}`}
      checked={selected}
      onChange={() => onToggle(alert.id)}
    />
  );
}

export const AlertRow = memo(function AlertRow(props: AlertLineProps) {
  const { alert, selected, teams } = props;
  return (
    <tr className="alert-row" aria-selected={selected} {...lineProps(props)}>
      <td>
        <SelectBox {...props} />
      </td>
      <td>
        <PriorityBadge priority={alert.priority} />
      </td>
      <td>
        <Link to={`/alerts/${alert.id}`} className="alert-link break-anywhere">
          {alert.message}
        </Link>
        <div className="alert-small">#{alert.tinyId}</div>
      </td>
      <td>
        <StatusBadge alert={alert} />
      </td>
      <td>
        <div className="alert-cell-text">{teams || '—'}</div>
      </td>
      <td>
        <div className="alert-cell-text" title={alert.integration.type}>
          {alert.integration.name || alert.source}
        </div>
      </td>
      <td>
        <div className="alert-cell-text">{alert.owner || '—'}</div>
      </td>
      <td>
        {/* The browser's own tooltip: a Mantine Tooltip in each row was the costliest part of the list. */}
        <span className="alert-cell-text" title={when(alert.createdAt)}>
          {age(alert.createdAt)}
        </span>
      </td>
      <td style={{ textAlign: 'right' }}>{alert.count}</td>
    </tr>
  );
});

export const AlertCard = memo(function AlertCard(props: AlertLineProps) {
  const { alert, teams } = props;
  return (
    <div className="alert-row alert-card" role="listitem" {...lineProps(props)}>
      <SelectBox {...props} />
      <div className="alert-card-body">
        <div className="alert-card-meta">
          <PriorityBadge priority={alert.priority} />
          <StatusBadge alert={alert} />
          <span className="alert-small">
            #{alert.tinyId} · {age(alert.createdAt)}
            {alert.count > 1 ? ` · ×${alert.count}` : ''}
          </span>
        </div>
        <Link to={`/alerts/${alert.id}`} className="alert-link break-anywhere">
          {alert.message}
        </Link>
        <div className="alert-small break-anywhere">
          {[teams, alert.integration.name, alert.owner].filter(Boolean).join(' · ')}
        </div>
      </div>
    </div>
  );
});
