local cjson = require "cjson"

local _M = {}

function _M.json(name)
    return cjson.encode({ greeting = "hello", name = name, worker = ngx.worker.id() })
end

return _M
