-- wrk: POST the GraphQL requests in the file $WRK_BODIES_FILE (one JSON body
-- a line) in turn, each thread from its own starting line, and count the
-- answers carrying GraphQL errors: a 200 with `errors` is a failure too.
local bodies = {}
for line in assert(io.open(os.getenv("WRK_BODIES_FILE"), "r")):lines() do
    bodies[#bodies + 1] = line
end
assert(#bodies > 0, "no request in " .. os.getenv("WRK_BODIES_FILE"))

local threads = {}
function setup(thread)
    thread:set("start", #threads)
    threads[#threads + 1] = thread
end

-- `failed` is global: done() reads it from each thread.
local requests, next_request = {}, 0
function init()
    for i, body in ipairs(bodies) do
        requests[i] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
    end
    next_request = start % #requests
    failed = 0
end

function request()
    next_request = next_request % #requests + 1
    return requests[next_request]
end

function response(status, headers, body)
    if string.find(body, '"errors"', 1, true) then
        failed = failed + 1
    end
end

function done()
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("failed")
    end
    io.write(string.format("GraphQL errors: %d\n", total))
end
