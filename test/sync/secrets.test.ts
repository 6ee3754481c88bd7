import { describe, expect, it } from 'vitest';
import { deriveSecret, newFolderSecrets, parseSecret, secretLevel, secretsFromReadWrite } from '../../server/src/sync/index.js';

describe('secrets', () => {
  it('makes three levels with the right prefixes and at least 160 bits', () => {
    const s = newFolderSecrets();
    expect(s.readWrite).toMatch(/^A[A-Z2-7]{32}$/);
    expect(s.readOnly).toMatch(/^B[A-Z2-7]+$/);
    expect(s.encrypted).toMatch(/^F[A-Z2-7]+$/);
    expect(secretLevel(s.readWrite)).toBe('rw');
    expect(secretLevel(s.readOnly)).toBe('ro');
    expect(secretLevel(s.encrypted)).toBe('enc');
    expect(newFolderSecrets().readWrite).not.toBe(s.readWrite);
  });

  it('derives deterministically and one-way', () => {
    const s = newFolderSecrets();
    expect(secretsFromReadWrite(s.readWrite)).toEqual(s);
    expect(deriveSecret(s.readWrite, 'ro')).toBe(s.readOnly);
    expect(deriveSecret(s.readOnly, 'enc')).toBe(s.encrypted);
    expect(() => deriveSecret(s.encrypted, 'ro')).toThrow(/cannot be raised/);
    const rw = parseSecret(s.readWrite);
    const ro = parseSecret(s.readOnly);
    const enc = parseSecret(s.encrypted);
    // same public identity and DHT key at every level
    expect(ro.folderId.equals(rw.folderId)).toBe(true);
    expect(enc.folderId.equals(rw.folderId)).toBe(true);
    expect(enc.dhtKey.length).toBe(20);
    // lower levels lack the higher keys
    expect(rw.signKey).toBeDefined();
    expect(ro.signKey).toBeUndefined();
    expect(ro.auth.rw).toBeUndefined();
    expect(enc.content).toBeUndefined();
    expect(enc.auth.ro).toBeUndefined();
    expect(ro.content!.block.equals(rw.content!.block)).toBe(true);
    // the read-only string contains no bytes of the read-write seed
    const rwBody = s.readWrite.slice(1, 20);
    expect(s.readOnly.includes(rwBody)).toBe(false);
    // the DHT key is not the secret nor a prefix of it
    expect(s.readOnly.includes(enc.dhtKey.toString('hex').toUpperCase())).toBe(false);
  });

  it('rejects bad strings with clear errors', () => {
    const s = newFolderSecrets();
    expect(() => parseSecret('')).toThrow(/empty/);
    expect(() => parseSecret('Zabc')).toThrow(/unknown secret type/);
    expect(() => parseSecret('A0189')).toThrow(/Base32/);
    expect(() => parseSecret(s.readWrite.slice(0, 20))).toThrow(/wrong length/);
    expect(() => parseSecret(s.readOnly + 'AAAA')).toThrow(/wrong length/);
    try {
      parseSecret('Q123');
    } catch (e) {
      expect((e as { code: string }).code).toBe('BAD_SECRET');
    }
    // lower case and spaces are tolerated (copied by hand)
    expect(parseSecret(' ' + s.readWrite.toLowerCase() + ' ').level).toBe('rw');
  });
});
