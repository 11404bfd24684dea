/**
 * HubSpot's association types: the HUBSPOT_DEFINED type ids per (from, to) pair and direction,
 * from the v4 associations guide's table (`contact → company` 279, primary 1; `deal → contact` 3;
 * `note → contact` 202; …), with the v3 names (`contact_to_company`,
 * `contact_to_company_unlabeled`). Pairs HubSpot does not define (custom objects, unknown
 * pairs) get a USER_DEFINED type id of their own, allocated once per pair.
 */

export interface AssociationType {
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  typeId: number;
  /** `Primary` for the primary company of a contact, deal or ticket; otherwise null. */
  label: string | null;
  /** The v3 name: `contact_to_company`, `contact_to_company_unlabeled`, `deal_to_contact`. */
  name: string;
}

interface PairTypes {
  /** The type a plain association (v4 `default`, v3 create by name) gets. */
  unlabeled: number;
  /** The primary type, for pairs that have one (to a company). */
  primary?: number;
}

// [from, to, unlabeled, primary?, reverseUnlabeled, reversePrimary?]
const PAIRS: Array<[string, string, number, number | undefined, number, number | undefined]> = [
  ['contact', 'company', 279, 1, 280, 2],
  ['deal', 'contact', 3, undefined, 4, undefined],
  ['deal', 'company', 341, 5, 342, 6],
  ['ticket', 'company', 339, 26, 340, 25],
  ['ticket', 'contact', 16, undefined, 15, undefined],
  ['line_item', 'deal', 20, undefined, 19, undefined],
  ['ticket', 'deal', 28, undefined, 27, undefined],
  ['company', 'company', 13, undefined, 14, undefined],
  ['call', 'contact', 194, undefined, 193, undefined],
  ['call', 'company', 182, undefined, 181, undefined],
  ['call', 'deal', 206, undefined, 205, undefined],
  ['call', 'ticket', 220, undefined, 219, undefined],
  ['email', 'contact', 198, undefined, 197, undefined],
  ['email', 'company', 186, undefined, 185, undefined],
  ['email', 'deal', 210, undefined, 209, undefined],
  ['email', 'ticket', 224, undefined, 223, undefined],
  ['meeting', 'contact', 200, undefined, 199, undefined],
  ['meeting', 'company', 188, undefined, 187, undefined],
  ['meeting', 'deal', 212, undefined, 211, undefined],
  ['meeting', 'ticket', 226, undefined, 225, undefined],
  ['note', 'contact', 202, undefined, 201, undefined],
  ['note', 'company', 190, undefined, 189, undefined],
  ['note', 'deal', 214, undefined, 213, undefined],
  ['note', 'ticket', 228, undefined, 227, undefined],
  ['task', 'contact', 204, undefined, 203, undefined],
  ['task', 'company', 192, undefined, 191, undefined],
  ['task', 'deal', 216, undefined, 215, undefined],
  ['task', 'ticket', 230, undefined, 229, undefined],
  ['communication', 'contact', 81, undefined, 82, undefined],
  ['communication', 'company', 87, undefined, 88, undefined],
  ['communication', 'deal', 85, undefined, 86, undefined],
  ['communication', 'ticket', 83, undefined, 84, undefined],
];

const BY_PAIR = new Map<string, PairTypes>();
/** typeId → [from, to, isPrimary] for the HUBSPOT_DEFINED types. */
const BY_ID = new Map<number, { from: string; to: string; primary: boolean }>();
/** typeId → the type of the other direction. */
const REVERSE = new Map<number, number>();

for (const [from, to, unlabeled, primary, reverseUnlabeled, reversePrimary] of PAIRS) {
  BY_PAIR.set(`${from}>${to}`, primary === undefined ? { unlabeled } : { unlabeled, primary });
  BY_PAIR.set(`${to}>${from}`, reversePrimary === undefined ? { unlabeled: reverseUnlabeled } : { unlabeled: reverseUnlabeled, primary: reversePrimary });
  BY_ID.set(unlabeled, { from, to, primary: false });
  BY_ID.set(reverseUnlabeled, { from: to, to: from, primary: false });
  REVERSE.set(unlabeled, reverseUnlabeled);
  REVERSE.set(reverseUnlabeled, unlabeled);
  if (primary !== undefined && reversePrimary !== undefined) {
    BY_ID.set(primary, { from, to, primary: true });
    BY_ID.set(reversePrimary, { from: to, to: from, primary: true });
    REVERSE.set(primary, reversePrimary);
    REVERSE.set(reversePrimary, primary);
  }
}

/** Type ids for pairs HubSpot does not define, handed out from 1000 up (pair and reverse each get one). */
const userDefined = new Map<string, number>();
let nextUserDefined = 1000;

function userDefinedId(from: string, to: string): number {
  const key = `${from}>${to}`;
  let id = userDefined.get(key);
  if (id === undefined) {
    id = nextUserDefined++;
    userDefined.set(key, id);
    const back = from === to ? id : nextUserDefined++;
    if (from !== to) userDefined.set(`${to}>${from}`, back);
    REVERSE.set(id, back);
    REVERSE.set(back, id);
  }
  return id;
}

/** The pair's types; a pair HubSpot does not define gets a USER_DEFINED one. */
export function pairTypes(from: string, to: string): PairTypes & { category: AssociationType['category'] } {
  const known = BY_PAIR.get(`${from}>${to}`);
  if (known) return { ...known, category: 'HUBSPOT_DEFINED' };
  return { unlabeled: userDefinedId(from, to), category: 'USER_DEFINED' };
}

/** The full description of a type id in the direction from → to. */
export function describeType(from: string, to: string, typeId: number): AssociationType {
  const known = BY_ID.get(typeId);
  if (known && known.from === from && known.to === to) {
    const pair = BY_PAIR.get(`${from}>${to}`);
    const name = known.primary || pair?.primary === undefined ? `${from}_to_${to}` : `${from}_to_${to}_unlabeled`;
    return { category: 'HUBSPOT_DEFINED', typeId, label: known.primary ? 'Primary' : null, name };
  }
  return { category: 'USER_DEFINED', typeId, label: null, name: `${from}_to_${to}` };
}

/** Whether the type id belongs to the pair (HubSpot refuses `deal_to_contact` between a contact and a company). */
export function typeFitsPair(from: string, to: string, typeId: number): boolean {
  const known = BY_ID.get(typeId);
  if (known) return known.from === from && known.to === to;
  return userDefined.get(`${from}>${to}`) === typeId;
}

export function reverseTypeId(typeId: number): number {
  return REVERSE.get(typeId) ?? typeId;
}

/**
 * A v3 association type given by name (`contact_to_company`, `deal_to_contact`,
 * `contact_to_company_unlabeled`) or id (`279`), resolved for the pair; undefined when it does
 * not fit the pair.
 */
export function parseTypeName(from: string, to: string, text: string): number | undefined {
  if (/^\d+$/.test(text)) return typeFitsPair(from, to, Number(text)) ? Number(text) : undefined;
  const types = pairTypes(from, to);
  const lower = text.toLowerCase();
  if (lower === `${from}_to_${to}_unlabeled`) return types.unlabeled;
  if (lower === `${from}_to_${to}`) return types.primary ?? types.unlabeled;
  return undefined;
}

/** The (from, to) pair a type id belongs to, as singulars; undefined for an id never handed out. */
export function typeEnds(typeId: number): { from: string; to: string } | undefined {
  const known = BY_ID.get(typeId);
  if (known) return { from: known.from, to: known.to };
  for (const [key, id] of userDefined) {
    if (id === typeId) {
      const [from = '', to = ''] = key.split('>');
      return { from, to };
    }
  }
  return undefined;
}
