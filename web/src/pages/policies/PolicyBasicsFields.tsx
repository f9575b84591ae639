import { TextInput } from '@mantine/core';
import {
  CriteriaEditor,
  criteriaBody,
  draftCriteria,
  type DraftCriteria,
} from '../../components/CriteriaEditor';
import type { Policy, PolicyBody } from './model';

/** What every policy has, whatever its kind: a name, a description and the alerts it applies to. */
export interface PolicyBasics {
  name: string;
  description: string;
  criteria: DraftCriteria;
}

export function draftBasics(policy: Policy | undefined): PolicyBasics {
  return {
    name: policy?.name ?? '',
    description: policy?.policyDescription ?? '',
    criteria: draftCriteria(policy?.filter ?? undefined),
  };
}

export function basicsBody(basics: PolicyBasics): Pick<PolicyBody, 'name' | 'policyDescription' | 'filter'> {
  return {
    name: basics.name.trim(),
    policyDescription: basics.description,
    filter: criteriaBody(basics.criteria) as PolicyBody['filter'],
  };
}

export function PolicyBasicsFields({
  value,
  onChange,
}: {
  value: PolicyBasics;
  onChange: (value: PolicyBasics) => void;
}) {
  return (
    <>
      <TextInput
        label="Policy name"
        required
        maxLength={200}
        value={value.name}
        onChange={(e) => onChange({ ...value, name: e.currentTarget.value })}
      />
      <TextInput
        label="Policy description"
        maxLength={1000}
        value={value.description}
        onChange={(e) => onChange({ ...value, description: e.currentTarget.value })}
      />
      <CriteriaEditor
        value={value.criteria}
        onChange={(criteria) => onChange({ ...value, criteria })}
        responderFields
      />
    </>
  );
}
