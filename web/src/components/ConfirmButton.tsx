import { Button, Group, Text } from '@mantine/core';
import { useState } from 'react';

/** A destructive action asked twice: the first press shows the question and the real button. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  loading,
  ariaLabel,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  loading?: boolean;
  ariaLabel?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <Button size="xs" variant="subtle" color="red" onClick={() => setAsking(true)} aria-label={ariaLabel}>
        {label}
      </Button>
    );
  return (
    <Group gap="xs" role="group" aria-label={question}>
      <Text size="sm" className="break-anywhere">
        {question}
      </Text>
      {/* A darker red than the filled default, which keeps white text under 4.5:1. */}
      <Button size="xs" color="red.9" loading={loading} onClick={onConfirm}>
        {confirmLabel}
      </Button>
      <Button size="xs" variant="default" onClick={() => setAsking(false)}>
        Cancel
      </Button>
    </Group>
  );
}
