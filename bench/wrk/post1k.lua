-- wrk script: POST a 1 KiB urlencoded form (16 fields) on every request.
local fields = {}
for i = 1, 16 do
    fields[#fields + 1] = string.format("field%02d=%s", i, string.rep(string.char(96 + i), 55))
end
local body = table.concat(fields, "&")
body = body .. string.rep("z", 1024 - #body)
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
