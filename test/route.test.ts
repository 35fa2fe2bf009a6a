import assert from 'node:assert/strict';
import { resolveServiceId } from '../runtime/gateway/route.js';

describe('service id from the request URL (resolveServiceId)', () => {
  it('takes the last path segment, past trailing slashes and empty segments', () => {
    assert.equal(resolveServiceId('/v1/private/echo'), 'echo');
    assert.equal(resolveServiceId('/echo'), 'echo');
    assert.equal(resolveServiceId('/v1/private/echo/'), 'echo');
    assert.equal(resolveServiceId('/v1//echo//'), 'echo');
    assert.equal(resolveServiceId('/x/?'), 'x');
  });

  it('decodes a percent-encoded segment, and lets ?serviceId= win over the path', () => {
    assert.equal(resolveServiceId('/v1/private/%E5%AD%97'), '字');
    assert.equal(resolveServiceId('/a%20b'), 'a b');
    assert.equal(resolveServiceId('/some/other/path?serviceId=echo'), 'echo');
    assert.equal(resolveServiceId('/mmocr?foo=1'), 'mmocr');
  });

  it('finds none in an empty path', () => {
    assert.equal(resolveServiceId('/'), undefined);
    assert.equal(resolveServiceId('//'), undefined);
    assert.equal(resolveServiceId(''), undefined);
  });
});
