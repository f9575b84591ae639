import { Group, NativeSelect, NumberInput } from '@mantine/core';
import type { Duration } from './model';

const UNITS = [
  { value: 'minutes', label: 'minutes' },
  { value: 'hours', label: 'hours' },
  { value: 'days', label: 'days' },
];

/** An amount and its unit; `label` names both (each input is labelled on its own). */
export function DurationFields({
  label,
  value,
  onChange,
}: {
  label: string;
  value: Required<Duration>;
  onChange: (value: Required<Duration>) => void;
}) {
  return (
    <Group gap="xs" align="flex-end" wrap="wrap">
      <NumberInput
        label={label}
        required
        min={1}
        max={1_000_000}
        allowDecimal={false}
        allowNegative={false}
        value={value.timeAmount}
        onChange={(amount) => onChange({ ...value, timeAmount: typeof amount === 'number' ? amount : 1 })}
        w={130}
      />
      <NativeSelect
        label={`${label}: unit`}
        data={UNITS}
        value={value.timeUnit}
        onChange={(e) =>
          onChange({ ...value, timeUnit: e.currentTarget.value as Required<Duration>['timeUnit'] })
        }
        w={130}
      />
    </Group>
  );
}
