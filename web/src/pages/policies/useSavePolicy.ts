import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import { scopeQuery, type Policy, type PolicyBody, type PolicyKind } from './model';

/**
 * Saves a policy of either kind: a new one (without `policy`) by POST, a stored one by PUT, in the
 * scope `teamId` names. The body is the mutation's argument, so the message names what was saved.
 */
export function useSavePolicy(
  policy: Policy | undefined,
  teamId: string | undefined,
  kind: PolicyKind,
  onDone: () => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: PolicyBody) => {
      const query = scopeQuery(teamId);
      return policy
        ? data(api.PUT('/v2/policies/{id}', { params: { path: { id: policy.id }, query }, body }))
        : data(api.POST('/v2/policies', { params: { query }, body }));
    },
    onSuccess: (_saved, body) => {
      notifications.show({
        color: 'teal',
        message: policy ? `${body.name} is saved.` : `The ${kind} policy ${body.name} is added.`,
      });
      void queryClient.invalidateQueries({ queryKey: ['policies'] });
      if (policy) void queryClient.invalidateQueries({ queryKey: ['policy', policy.id] });
      onDone();
    },
  });
}

export type PolicySave = ReturnType<typeof useSavePolicy>;
