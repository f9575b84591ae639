import { Button, Checkbox, Fieldset, Group, NativeSelect, Stack, TextInput } from '@mantine/core';
import type { Criteria } from '../api/types';
import type { paths } from '../api/schema';

/**
 * Opsgenie's alert filters ("criteria", src/oncall/conditions.ts) as a form: all alerts, or a list of
 * conditions of which every one (or any one) must hold. Routing rules, notification rules, integration
 * actions and policies share it. Every field and operation the server takes is offered, so a rule made
 * through the API is edited without losing anything.
 */

export type CriteriaBody = NonNullable<
  paths['/v2/teams/{identifier}/routing-rules']['post']['requestBody']['content']['application/json']['criteria']
>;
type ConditionBody = NonNullable<CriteriaBody['conditions']>[number];

const FIELDS: { value: ConditionBody['field']; label: string }[] = [
  { value: 'message', label: 'message' },
  { value: 'alias', label: 'alias' },
  { value: 'description', label: 'description' },
  { value: 'source', label: 'source' },
  { value: 'entity', label: 'entity' },
  { value: 'tags', label: 'tags' },
  { value: 'actions', label: 'actions' },
  // The server presents details under Opsgenie's name for them.
  { value: 'extra-properties', label: 'details (extra properties)' },
  { value: 'priority', label: 'priority' },
  { value: 'integration', label: 'integration' },
];

/** Who the alert notifies: only policies filter on them (src/oncall/conditions.ts POLICY_CONDITIONS). */
const RESPONDER_FIELDS: typeof FIELDS = [
  { value: 'teams', label: 'teams' },
  { value: 'recipients', label: 'recipients' },
];

const OPERATIONS: { value: ConditionBody['operation']; label: string }[] = [
  { value: 'contains', label: 'contains' },
  { value: 'equals', label: 'equals' },
  { value: 'equals-ignore-whitespace', label: 'equals, ignoring whitespace' },
  { value: 'starts-with', label: 'starts with' },
  { value: 'ends-with', label: 'ends with' },
  { value: 'matches', label: 'matches (regular expression)' },
  { value: 'is-empty', label: 'is empty' },
  { value: 'contains-key', label: 'has the key (details)' },
  { value: 'contains-value', label: 'has the value (details)' },
  { value: 'greater-than', label: 'is greater than (priority)' },
  { value: 'less-than', label: 'is less than (priority)' },
];

export interface DraftCondition {
  /** React's key: conditions are added and removed in the middle of the list. */
  id: number;
  field: ConditionBody['field'];
  detailKey: string;
  not: boolean;
  operation: ConditionBody['operation'];
  value: string;
}

export interface DraftCriteria {
  /** 'all': every alert; 'one': the alerts the conditions select. */
  match: 'all' | 'one';
  combine: 'match-all-conditions' | 'match-any-condition';
  conditions: DraftCondition[];
}

let nextId = 1;

function newCondition(): DraftCondition {
  return { id: nextId++, field: 'message', detailKey: '', not: false, operation: 'contains', value: '' };
}

export function draftCriteria(criteria?: Criteria): DraftCriteria {
  const conditions = criteria?.type !== 'match-all' ? (criteria?.conditions ?? []) : [];
  return {
    match: conditions.length > 0 ? 'one' : 'all',
    combine: criteria?.type === 'match-any-condition' ? 'match-any-condition' : 'match-all-conditions',
    conditions:
      conditions.length > 0
        ? conditions.map((c) => ({
            id: nextId++,
            field: (c.field === 'details' ? 'extra-properties' : c.field) as ConditionBody['field'],
            detailKey: c.key ?? '',
            not: c.not,
            operation: c.operation as ConditionBody['operation'],
            value: c.expectedValue,
          }))
        : [newCondition()],
  };
}

export function criteriaBody(draft: DraftCriteria): CriteriaBody {
  if (draft.match === 'all') return { type: 'match-all' };
  return {
    type: draft.combine,
    conditions: draft.conditions.map((c) => ({
      field: c.field,
      ...(c.field === 'extra-properties' && c.detailKey.trim() ? { key: c.detailKey.trim() } : {}),
      ...(c.not ? { not: true } : {}),
      operation: c.operation,
      ...(c.operation === 'is-empty' ? {} : { expectedValue: c.value }),
    })),
  };
}

function ConditionFields({
  condition,
  fields,
  onChange,
}: {
  condition: DraftCondition;
  fields: typeof FIELDS;
  onChange: (patch: Partial<DraftCondition>) => void;
}) {
  return (
    <>
      <Group grow wrap="wrap" align="flex-start" gap="xs">
        <NativeSelect
          label="Field"
          data={fields}
          value={condition.field}
          onChange={(e) => onChange({ field: e.currentTarget.value as ConditionBody['field'] })}
          miw={140}
        />
        {condition.field === 'extra-properties' ? (
          <TextInput
            label="Detail key"
            description="Empty: any detail"
            value={condition.detailKey}
            onChange={(e) => onChange({ detailKey: e.currentTarget.value })}
            maxLength={256}
            miw={140}
          />
        ) : null}
        <NativeSelect
          label="Operation"
          data={OPERATIONS}
          value={condition.operation}
          onChange={(e) => onChange({ operation: e.currentTarget.value as ConditionBody['operation'] })}
          miw={160}
        />
        {condition.operation !== 'is-empty' ? (
          <TextInput
            label="Value"
            required
            maxLength={1000}
            value={condition.value}
            onChange={(e) => onChange({ value: e.currentTarget.value })}
            miw={160}
          />
        ) : null}
      </Group>
      <Checkbox
        mt="xs"
        label="Invert: the alerts this condition does not hold for"
        checked={condition.not}
        onChange={(e) => onChange({ not: e.currentTarget.checked })}
      />
    </>
  );
}

export function CriteriaEditor({
  value,
  onChange,
  responderFields = false,
}: {
  value: DraftCriteria;
  onChange: (value: DraftCriteria) => void;
  /** Offers the alert's teams and recipients as fields: policies take them, rules and actions do not. */
  responderFields?: boolean;
}) {
  const { conditions } = value;
  const fields = responderFields ? [...FIELDS, ...RESPONDER_FIELDS] : FIELDS;
  const setCondition = (id: number, patch: Partial<DraftCondition>) =>
    onChange({ ...value, conditions: conditions.map((c) => (c.id === id ? { ...c, ...patch } : c)) });
  return (
    <Stack gap="xs">
      <NativeSelect
        label="Alerts it applies to"
        data={[
          { value: 'all', label: 'All alerts' },
          { value: 'one', label: 'Alerts that match conditions' },
        ]}
        value={value.match}
        onChange={(e) => onChange({ ...value, match: e.currentTarget.value as DraftCriteria['match'] })}
      />
      {value.match === 'one' ? (
        <>
          {conditions.length > 1 ? (
            <NativeSelect
              label="Conditions to hold"
              data={[
                { value: 'match-all-conditions', label: 'Every condition' },
                { value: 'match-any-condition', label: 'Any one condition' },
              ]}
              value={value.combine}
              onChange={(e) =>
                onChange({ ...value, combine: e.currentTarget.value as DraftCriteria['combine'] })
              }
            />
          ) : null}
          {conditions.map((c, i) =>
            conditions.length === 1 ? (
              <ConditionFields
                key={c.id}
                condition={c}
                fields={fields}
                onChange={(patch) => setCondition(c.id, patch)}
              />
            ) : (
              <Fieldset key={c.id} legend={`Condition ${i + 1}`} p="sm">
                <ConditionFields
                  condition={c}
                  fields={fields}
                  onChange={(patch) => setCondition(c.id, patch)}
                />
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  mt="xs"
                  onClick={() => onChange({ ...value, conditions: conditions.filter((x) => x.id !== c.id) })}
                  aria-label={`Remove condition ${i + 1}`}
                >
                  Remove
                </Button>
              </Fieldset>
            ),
          )}
          <Group>
            <Button
              size="xs"
              variant="light"
              disabled={conditions.length >= 100}
              onClick={() => onChange({ ...value, conditions: [...conditions, newCondition()] })}
            >
              Add condition
            </Button>
          </Group>
        </>
      ) : null}
    </Stack>
  );
}
