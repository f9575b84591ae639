import { Anchor, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ExternalIcon } from '../../components/icons';

/** A labelled value of an alert or its finding; '—' when there is none. */
export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div style={{ minWidth: 0 }}>
      <Text size="xs" c="dimmed" fw={500} tt="uppercase">
        {label}
      </Text>
      <Text size="sm" component="div" className="break-anywhere">
        {children ?? '—'}
      </Text>
    </div>
  );
}

/** A link out of the console, in a new tab, saying so to a screen reader. */
export function ExternalLink({ href, children }: { href: string; children: ReactNode }) {
  return (
    <Anchor href={href} target="_blank" rel="noopener noreferrer" className="break-anywhere">
      {children} <ExternalIcon />
      <span style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}>
        (opens in a new tab)
      </span>
    </Anchor>
  );
}
