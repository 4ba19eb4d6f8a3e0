-- wrk script for gRPC-Web unary calls over HTTP/1.1.
-- Sends the request frame in GRPC_WEB_BODY_FILE with GRPC_WEB_CONTENT_TYPE to
-- GRPC_WEB_PATH, and checks every response: HTTP 200 and grpc-status 0, read
-- from the headers (trailers-only reply) or from the trailer frame (flag 0x80)
-- at the end of the body; grpc-web-text bodies are base64-decoded first.
-- done() prints one JSON line that bench/src/wrk.ts parses.

local body_file = assert(os.getenv("GRPC_WEB_BODY_FILE"), "GRPC_WEB_BODY_FILE is not set")
local f = assert(io.open(body_file, "rb"))
local request_body = f:read("*a")
f:close()
local content_type = os.getenv("GRPC_WEB_CONTENT_TYPE") or "application/grpc-web+proto"
local text = content_type:find("grpc%-web%-text") ~= nil

wrk.method = "POST"
wrk.path = os.getenv("GRPC_WEB_PATH") or "/"
wrk.body = request_body
wrk.headers["content-type"] = content_type
wrk.headers["x-grpc-web"] = "1"
local authorization = os.getenv("GRPC_WEB_AUTHORIZATION")
if authorization and authorization ~= "" then
  wrk.headers["authorization"] = authorization
end

local b64 = {}
do
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, #alphabet do b64[alphabet:byte(i)] = i - 1 end
end

-- Decodes concatenated, individually padded base64 chunks.
local function decode_base64(s)
  local out, acc, bits = {}, 0, 0
  for i = 1, #s do
    local v = b64[s:byte(i)]
    if v then
      acc = acc * 64 + v
      bits = bits + 6
      if bits >= 8 then
        bits = bits - 8
        local byte = math.floor(acc / 2 ^ bits)
        out[#out + 1] = string.char(byte)
        acc = acc - byte * 2 ^ bits
      end
    elseif s:byte(i) == 61 then -- '=' ends a chunk: drop the leftover bits
      acc, bits = 0, 0
    end
  end
  return table.concat(out)
end

-- grpc-status from the trailer frame, or nil when there is none.
local function trailer_status(b)
  local pos = 1
  while pos + 4 <= #b do
    local flag = b:byte(pos)
    local len = ((b:byte(pos + 1) * 256 + b:byte(pos + 2)) * 256 + b:byte(pos + 3)) * 256 + b:byte(pos + 4)
    if flag >= 128 then
      local trailer = b:sub(pos + 5, pos + 4 + len):lower()
      return trailer:match("grpc%-status:%s*(%d+)")
    end
    pos = pos + 5 + len
  end
  return nil
end

-- Globals, not locals: done() reads them from each thread with thread:get().
ok_calls, failed_calls, body_bytes, first_failure = 0, 0, 0, ""

function response(status, headers, body)
  body_bytes = body_bytes + #body
  local grpc_status = headers["grpc-status"] or headers["Grpc-Status"]
  if grpc_status == nil then
    grpc_status = trailer_status(text and decode_base64(body) or body)
  end
  if status == 200 and grpc_status == "0" then
    ok_calls = ok_calls + 1
  else
    failed_calls = failed_calls + 1
    if first_failure == "" then
      first_failure = "HTTP " .. status .. " grpc-status " .. tostring(grpc_status)
    end
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local ok, failed, bytes, first = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok_calls")
    failed = failed + t:get("failed_calls")
    bytes = bytes + t:get("body_bytes")
    if first == "" then first = t:get("first_failure") end
  end
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"ok":%d,"failed":%d,"socketErrors":%d,"durationUs":%d,"bodyBytes":%d,"p50Us":%d,"p99Us":%d,"firstFailure":"%s"}\n',
    summary.requests, ok, failed, socket_errors, summary.duration, bytes,
    latency:percentile(50), latency:percentile(99), first:gsub('"', "'")))
end
