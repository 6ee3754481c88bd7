// Minimal declaration for bencode@4, which ships no types.
declare module 'bencode' {
  type Bencodable = Uint8Array | string | number | Bencodable[] | { [key: string]: Bencodable | undefined };
  const bencode: {
    encode(value: Bencodable): Uint8Array;
    decode(data: Uint8Array, encoding?: string): unknown;
  };
  export default bencode;
}
