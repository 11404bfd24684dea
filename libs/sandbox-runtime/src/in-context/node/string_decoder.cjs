'use strict';
// Node's `string_decoder`: the npm `string_decoder` package (Node's own code, published),
// reached by path because the bare name is external here (it is this very module).
module.exports = require('../../../../../node_modules/string_decoder/lib/string_decoder.js');
