-- wrk script: POST the JSON body in the WRK_BODY environment variable to the URL's path.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("WRK_BODY")
