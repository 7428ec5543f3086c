// Writes a MaxMind DB file (format 2.0: a binary search tree over address bits, a data section, a
// metadata map) holding a few networks, so the geo tests read a real .mmdb file with the real
// reader without shipping a licensed database. IPv6 tree; IPv4 networks live under ::/96, as in
// MaxMind's own City databases.

import { isIPv4 } from 'node:net';

/** Integers are written as uint16 or uint32, bigints as uint64, other numbers as doubles. */
export type MmdbValue = string | number | bigint | boolean | MmdbValue[] | { [key: string]: MmdbValue };

const TYPE = { utf8: 2, double: 3, uint16: 5, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 } as const;
const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex');
const DATA_SECTION_SEPARATOR = 16;

function control(type: number, size: number): Buffer {
  const sizeBytes: number[] = [];
  let sizeBits = size;
  if (size >= 65_821) {
    sizeBits = 31;
    const rest = size - 65_821;
    sizeBytes.push((rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff);
  } else if (size >= 285) {
    sizeBits = 30;
    const rest = size - 285;
    sizeBytes.push((rest >> 8) & 0xff, rest & 0xff);
  } else if (size >= 29) {
    sizeBits = 29;
    sizeBytes.push(size - 29);
  }
  const head = type <= 7 ? [(type << 5) | sizeBits] : [sizeBits, type - 7];
  return Buffer.from([...head, ...sizeBytes]);
}

function unsigned(type: number, value: number | bigint): Buffer {
  let hex = BigInt(value).toString(16);
  if (hex === '0') return control(type, 0);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return Buffer.concat([control(type, bytes.length), bytes]);
}

function encode(value: MmdbValue): Buffer {
  if (typeof value === 'bigint') return unsigned(TYPE.uint64, value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(TYPE.utf8, bytes.length), bytes]);
  }
  if (typeof value === 'boolean') return control(TYPE.boolean, value ? 1 : 0);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0) return unsigned(value < 65_536 ? TYPE.uint16 : TYPE.uint32, value);
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(TYPE.double, 8), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(TYPE.array, value.length), ...value.map((item) => encode(item))]);
  const entries = Object.entries(value);
  return Buffer.concat([control(TYPE.map, entries.length), ...entries.flatMap(([key, item]) => [encode(key), encode(item)])]);
}

/** The 128 bits of a CIDR block's address and its prefix length, IPv4 mapped under ::/96. */
function bits(cidr: string): { address: bigint; prefix: number } {
  const [ip, length] = cidr.split('/') as [string, string];
  if (isIPv4(ip)) return { address: BigInt(ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)), prefix: 96 + Number(length) };
  const halves = ip.split('::');
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return { address: all.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n), prefix: Number(length) };
}

/** A database of `databaseType` answering each network's data; every other address finds nothing. */
export function writeMmdb(databaseType: string, networks: { cidr: string; data: MmdbValue }[]): Buffer {
  // Nodes as [left, right]: a node index, or a data offset marked negative (-(offset + 1)); null is empty.
  const nodes: [number | null, number | null][] = [[null, null]];
  const data: Buffer[] = [];
  let dataBytes = 0;
  for (const { cidr, data: value } of networks) {
    const encoded = encode(value);
    const offset = dataBytes;
    data.push(encoded);
    dataBytes += encoded.length;
    const { address, prefix } = bits(cidr);
    let node = 0;
    for (let depth = 0; depth < prefix; depth++) {
      const side = Number((address >> BigInt(127 - depth)) & 1n);
      if (depth === prefix - 1) {
        nodes[node]![side] = -(offset + 1);
        break;
      }
      let next = nodes[node]![side];
      if (next === null) {
        next = nodes.length;
        nodes.push([null, null]);
        nodes[node]![side] = next;
      }
      node = next!;
    }
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 8);
  nodes.forEach((records, index) => {
    records.forEach((record, side) => {
      const value = record === null ? nodeCount : record >= 0 ? record : nodeCount + DATA_SECTION_SEPARATOR + (-record - 1);
      tree.writeUInt32BE(value, index * 8 + side * 4);
    });
  });
  const metadata = encode({
    node_count: nodeCount,
    record_size: 32,
    ip_version: 6,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    description: { en: 'test database written by test/helpers/mmdb.ts' },
    build_epoch: BigInt(Math.floor(Date.UTC(2026, 0, 1) / 1000)),
  });
  return Buffer.concat([tree, Buffer.alloc(DATA_SECTION_SEPARATOR), ...data, METADATA_MARKER, metadata]);
}
