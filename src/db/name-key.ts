/**
 * What names that are unique "in any case" are compared by (the `name_key` columns of saved searches,
 * custom user roles and team roles, and user search): the name in Unicode's composed form (NFC), its case
 * folded as Unicode's full case folding does for all but a handful of letters (upper then lower case:
 * "Straße" and "STRASSE" are one name, as are "É" composed and decomposed). Computed here, not by
 * PostgreSQL's lower(), which folds only ASCII under the C locale Vigil's own database runs with.
 * Migrations 0080 and 0082 keyed the rows made before with this same function (copies): changing it needs
 * a migration that keys them again.
 */
export function nameKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}
