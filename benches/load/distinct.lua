-- wrk: POST the JSON bodies of the file $WRK_BODIES_FILE (one a line) in
-- turn, each thread from its own place in the list, and stop each thread
-- after $WRK_REQUESTS_PER_THREAD answers, leaving a file named after it in
-- $WRK_DONE_DIR (wrk itself waits for its duration or a SIGINT).
local threads = 0

function setup(thread)
    thread:set("number", threads)
    threads = threads + 1
end

function init(args)
    bodies = {}
    for line in io.lines(os.getenv("WRK_BODIES_FILE")) do
        bodies[#bodies + 1] = line
    end
    wanted = tonumber(os.getenv("WRK_REQUESTS_PER_THREAD"))
    local spread = tonumber(os.getenv("WRK_THREADS"))
    nxt = math.floor(#bodies * number / spread)
    answered = 0
end

function request()
    nxt = nxt % #bodies + 1
    return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[nxt])
end

function response(status, headers, body)
    answered = answered + 1
    if answered == wanted then
        io.open(os.getenv("WRK_DONE_DIR") .. "/" .. number, "w"):close()
        wrk.thread:stop()
    end
end
