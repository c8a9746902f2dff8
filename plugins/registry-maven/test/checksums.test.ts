import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Readable } from 'node:stream'
import { allDigests, digestStream, parseChecksumFile, toHex } from '../src/checksums.ts'

const Sums = suite('checksum files')

Sums('reads plain, sha1sum-style and BSD-style checksum files', () => {
  const hex = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'
  assert.is(parseChecksumFile(hex, 'sha1'), hex)
  assert.is(parseChecksumFile(`${hex.toUpperCase()}  lib-1.0.jar\n`, 'sha1'), hex)
  assert.is(parseChecksumFile(`MD5 (lib-1.0.jar) = 098f6bcd4621d373cade4e832627b4f6\n`, 'md5'), '098f6bcd4621d373cade4e832627b4f6')
  assert.is(parseChecksumFile('<html>not found</html>', 'sha1'), null)
  assert.is(parseChecksumFile(hex, 'md5'), null)
})

Sums('computes every Maven digest of buffers and streams alike', async () => {
  const data = Buffer.from('test')
  const fromStream = await digestStream(Readable.from([data.subarray(0, 2), data.subarray(2)]))
  assert.equal(fromStream, allDigests(data))
  assert.is(fromStream.sha1, 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3')
  assert.is(toHex('sha1-qUqP5cyxm6YcTAhz05Hph5gvu9M=', 'sha1'), 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3')
  assert.is(toHex('qUqP5cyxm6YcTAhz05Hph5gvu9M=', 'sha1'), 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3')
})

Sums.run()
