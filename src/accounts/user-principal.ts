import type { UserRole } from '../db/schema.js';
import type { Principal } from './service.js';

/**
 * The principal of a person acting without an API key: through a signed link, a console session, a
 * reply by SMS, a key pressed on a call, a button in Slack. What they do is logged as them.
 */
export function principalOfUser(user: {
  org_id: string;
  id: string;
  username: string;
  full_name: string;
  role: UserRole;
  /** Given (a user row has it), a right is checked without asking which custom role they hold. */
  custom_role_id?: string | null;
}): Principal {
  return {
    orgId: user.org_id,
    apiKeyId: '',
    userId: user.id,
    username: user.username,
    fullName: user.full_name,
    role: user.role,
    ...(user.custom_role_id !== undefined ? { customRoleId: user.custom_role_id } : {}),
  };
}
