/**
 * What the Devices page offers, by what the server lets the person change of their own contact methods
 * and notification rules (GET /api/console/people/{id}/rights). A push device is a contact method: a new
 * one is subscribed, and one removed, only with contacts-edit; without notification-rules-edit a new
 * device is subscribed but not added to the first notification rule (docs/oncall.md). New keys for a
 * device already theirs change no contact method, so its renewal is always offered.
 */

export interface PersonEditRights {
  contactsEdit: boolean;
  notificationRulesEdit: boolean;
}

/** The rights as answered, `pending` while asked, `unknown` when the question failed. */
export type RightsAnswer = PersonEditRights | 'pending' | 'unknown';

export interface DevicesOffer {
  /**
   * The form that subscribes this browser: `add` a new device, `update` the one already theirs (new keys,
   * a new name), `wait` until the rights are known, `none` when the server would refuse it.
   */
  form: 'add' | 'update' | 'wait' | 'none';
  /** Whether their devices have a Remove button. */
  remove: boolean;
  /** Say that an admin manages their devices (their role may not add or remove one). */
  adminManagesDevices: boolean;
  /** Say that a new device is not added to a notification rule, and an admin has to add it. */
  noRuleStep: boolean;
}

export function devicesOffer(rights: RightsAnswer, thisDeviceIsTheirs: boolean): DevicesOffer {
  // Not known (the question failed): offer what the page always did; the server has the last word.
  const known: PersonEditRights | undefined =
    rights === 'unknown'
      ? { contactsEdit: true, notificationRulesEdit: true }
      : rights === 'pending'
        ? undefined
        : rights;
  if (thisDeviceIsTheirs) {
    return {
      form: 'update',
      remove: known?.contactsEdit === true,
      adminManagesDevices: known?.contactsEdit === false,
      noRuleStep: false,
    };
  }
  if (!known) return { form: 'wait', remove: false, adminManagesDevices: false, noRuleStep: false };
  return {
    form: known.contactsEdit ? 'add' : 'none',
    remove: known.contactsEdit,
    adminManagesDevices: !known.contactsEdit,
    noRuleStep: known.contactsEdit && !known.notificationRulesEdit,
  };
}
