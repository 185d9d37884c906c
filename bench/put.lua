-- wrk script: PUT the documented credential-update body to the path given on the command line.
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"password": "password", "password2": "pin", "token": "1234ab", ' ..
  '"encryption_key": "customencryptionkey", "username_type": "001", ' ..
  '"certificate": "1234567890abcd=", "private_key": "1234567890abcd="}'
