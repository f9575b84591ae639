/**
 * The people of the tests' AWS world: the customer's account and the operator who sets it up, and the
 * account Vigil runs as. Each test gives them to the fake account (`users`) and signs as them.
 */
export const CUSTOMER = '111122223333';
export const VIGIL_ACCOUNT = '210987654321';
export const OPERATOR = {
  accessKeyId: 'AKIAOPERATOR00000001',
  secretAccessKey: 'operator-secret-0000000000000000000000000',
  arn: `arn:aws:iam::${CUSTOMER}:user/operator`,
  account: CUSTOMER,
};
export const VIGIL = {
  accessKeyId: 'AKIAVIGILSERVER00001',
  secretAccessKey: 'vigil-secret-000000000000000000000000000',
  arn: `arn:aws:iam::${VIGIL_ACCOUNT}:user/vigil`,
  account: VIGIL_ACCOUNT,
};
