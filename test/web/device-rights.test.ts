import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { devicesOffer } from '../../web/src/lib/deviceRights.js';

describe('what the Devices page offers, by the rights the server says the person holds', () => {
  const all = { contactsEdit: true, notificationRulesEdit: true };

  it('offers adding and removing devices with contacts-edit and notification-rules-edit, saying nothing more', () => {
    assert.deepEqual(devicesOffer(all, false), {
      form: 'add',
      remove: true,
      adminManagesDevices: false,
      noRuleStep: false,
    });
    assert.deepEqual(devicesOffer(all, true), {
      form: 'update',
      remove: true,
      adminManagesDevices: false,
      noRuleStep: false,
    });
  });

  it('offers neither a new device nor Remove without contacts-edit (the server answers 403), saying an admin manages them', () => {
    const rights = { contactsEdit: false, notificationRulesEdit: true };
    assert.deepEqual(devicesOffer(rights, false), {
      form: 'none',
      remove: false,
      adminManagesDevices: true,
      noRuleStep: false,
    });
  });

  it('still renews the device already theirs without contacts-edit: new keys change no contact method', () => {
    const rights = { contactsEdit: false, notificationRulesEdit: false };
    const offer = devicesOffer(rights, true);
    assert.equal(offer.form, 'update');
    assert.equal(offer.remove, false);
    assert.equal(offer.adminManagesDevices, true);
  });

  it('says a new device is added to no notification rule without notification-rules-edit', () => {
    const rights = { contactsEdit: true, notificationRulesEdit: false };
    assert.deepEqual(devicesOffer(rights, false), {
      form: 'add',
      remove: true,
      adminManagesDevices: false,
      noRuleStep: true,
    });
    // A renewal adds no step either way: nothing to say.
    assert.equal(devicesOffer(rights, true).noRuleStep, false);
  });

  it('offers nothing new until the rights are known, and everything when they could not be read', () => {
    assert.deepEqual(devicesOffer('pending', false), {
      form: 'wait',
      remove: false,
      adminManagesDevices: false,
      noRuleStep: false,
    });
    assert.equal(devicesOffer('pending', true).form, 'update');
    assert.deepEqual(devicesOffer('unknown', false), devicesOffer(all, false));
  });
});

describe('the Devices page', () => {
  // The page itself is only rendered by the browser tests; its source shows what it decides its buttons by.
  const source = readFileSync(new URL('../../web/src/pages/DevicesPage.tsx', import.meta.url), 'utf8');

  it("asks the server for the person's own rights and offers its buttons by devicesOffer", () => {
    assert.match(source, /consoleApi\.personRights\(userId\)/);
    assert.match(source, /devicesOffer\(answer, isOn\)/);
    assert.match(source, /removable=\{offer\.remove\}/);
    assert.match(source, /offer\.form === 'none'/);
    assert.match(source, /offer\.noRuleStep \? <NoRuleStep \/>/);
  });
});
