//! Differential test for the hash and set commands: one script (errors,
//! edge cases, encodings and RESP3 shapes included) runs against stock
//! redis-server and against redcore (2 cores); the reply bytes must match.
//!
//! Orders: a small hash (listpack) answers in insertion order and an intset
//! in numeric order in both servers, so those replies compare exactly; a
//! hashtable's order is its own, so those compare sorted (`s`). Random
//! replies are checked only where they are deterministic (whole-set counts,
//! one-member sets, empty keys).
//!
//! Key names are chosen by hash slot: on a 2-core redcore `s2` `s3` `d2`
//! `d3` live on core 0 and `s1` `s4` `d1` `d4` on core 1, so `SMOVE s1 s2`
//! and `SUNIONSTORE d2 s1 s4` cross cores.

use redcore_tests::diff::run_script;

const SCRIPT: &str = r#"
# --- HSET HGET HMSET HSETNX and the read commands
= HSET h f1 v1 f2 v2 f3 v3
= HSET h f1 new f4 v4
= HGET h f1
= HGET h nofield
= HGET nohash f
= HLEN h
= HLEN nohash
= TYPE h
= OBJECT ENCODING h
= HGETALL h
= HKEYS h
= HVALS h
= HGETALL nohash
= HKEYS nohash
= HVALS nohash
= HMGET h f1 nofield f2
= HMGET nohash a b
= HMSET h f5 v5 f6 v6
= HMSET h f5
= HMSET h
= HSETNX h f1 x
= HSETNX h f7 v7
= HSETNX newh f v
= HGETALL newh
= HSTRLEN h f1
= HSTRLEN h nofield
= HSTRLEN nohash f
= HEXISTS h f1
= HEXISTS h nofield
= HEXISTS nohash f
= HSET h "" empty
= HGET h ""
= HSET h emptyval ""
= HSTRLEN h emptyval
= HGETALL h
# insertion order survives deletes and re-adds (listpack)
= HDEL h f2 nofield f2
= HSET h f2 back
= HKEYS h
= HDEL nohash f
# values change length in place, first, middle and last (listpack)
= HSET upd a 1 b 22 c 333
= HSET upd a 1111111111 b 7 c ""
= HGETALL upd
= HINCRBY upd b 1000000
= HINCRBYFLOAT upd a 0.5
= HSET upd c 12
= HGETALL upd
= HDEL upd a
= HSET upd 1234567890123456789012345678901234567890123456789012345678901234 1234567890123456789012345678901234567890123456789012345678901234 a short
= HGETALL upd
= OBJECT ENCODING upd
= HSCAN upd 0 COUNT 1
# --- arity
= HSET h f
= HSET h
= HSET h f v g
= HGET h
= HMGET h
= HSETNX h f
= HDEL h
= HLEN
= HSTRLEN h
= HEXISTS h
= HKEYS
= HVALS h x
= HGETALL
= HINCRBY h f
= HINCRBYFLOAT h f
= HRANDFIELD
= HSCAN h
# --- empty hashes disappear
= HSET gone a 1 b 2
= HDEL gone a b
= EXISTS gone
= TYPE gone
= HSET gone2 a 1
= EXPIRE gone2 100
= HDEL gone2 a
= TTL gone2
= HSET gone2 b 1
= TTL gone2
# --- HINCRBY
= HINCRBY ci f 5
= HINCRBY ci f -10
= HINCRBY ci f 0
= HGET ci f
= HINCRBY ci f x
= HINCRBY ci f 1.5
= HINCRBY ci f ""
= HINCRBY ci f 9223372036854775808
= HSET ci big 9223372036854775807 small -9223372036854775808 text abc sp " 1" fl 1.5 lead 01
= HINCRBY ci big 1
= HINCRBY ci big 0
= HINCRBY ci small -1
= HINCRBY ci small 1
= HINCRBY ci text 1
= HINCRBY ci sp 1
= HINCRBY ci fl 1
= HINCRBY ci lead 1
= HINCRBY ci new -9223372036854775808
= HINCRBY ci new -1
# --- HINCRBYFLOAT (long double, digit for digit)
= HINCRBYFLOAT cf f 10.5
= HINCRBYFLOAT cf f 0.1
= HINCRBYFLOAT cf f -5
= HINCRBYFLOAT cf f 1e3
= HINCRBYFLOAT cf g 1000.1
= HINCRBYFLOAT cf g 0
= HINCRBYFLOAT cf h 3.0e3
= HINCRBYFLOAT cf h -3000
= HINCRBYFLOAT cf i 1.23456789012345678
= HINCRBYFLOAT cf j 5.0
= HINCRBYFLOAT cf k -0.0
= HINCRBYFLOAT cf l 1e400
= OBJECT ENCODING cf
= HINCRBYFLOAT cf m 1e5000
= HINCRBYFLOAT cf m 1e-5000
= HINCRBYFLOAT cf m 1e-400
= HINCRBYFLOAT cf n abc
= HINCRBYFLOAT cf n ""
= HINCRBYFLOAT cf n " 1"
= HINCRBYFLOAT cf n "1 "
= HINCRBYFLOAT cf n nan
= HINCRBYFLOAT cf n inf
= HINCRBYFLOAT cf n -inf
= HINCRBYFLOAT cf n +Infinity
= HSET cf text abc sp " 1" int 7 pinf inf huge 1e5000 tiny 1e-5000
= HINCRBYFLOAT cf text 1
= HINCRBYFLOAT cf sp 1
= HINCRBYFLOAT cf int 1.5
= HINCRBYFLOAT cf pinf 1
= HINCRBYFLOAT cf huge 1
= HINCRBYFLOAT cf tiny 1
= HINCRBY cf f 1
= HINCRBYFLOAT cf int -8.5
= HINCRBY cf int 1
= HINCRBYFLOAT nocf f 1.5e308
= HINCRBYFLOAT nocf f 1.5e308
= HGET nocf f
= EXISTS nocf2
= HINCRBYFLOAT nocf2 f x
= EXISTS nocf2
# --- encodings
= HSET enc f v
= OBJECT ENCODING enc
= HSET enc f 1234567890123456789012345678901234567890123456789012345678901234
= OBJECT ENCODING enc
= HSET enc f 12345678901234567890123456789012345678901234567890123456789012345
= OBJECT ENCODING enc
= HSET enc f short
= OBJECT ENCODING enc
= HSET enc2 1234567890123456789012345678901234567890123456789012345678901234567890 v
= OBJECT ENCODING enc2
= HSETNX enc3 f 12345678901234567890123456789012345678901234567890123456789012345
= OBJECT ENCODING enc3
= HSET big f001 v f002 v f003 v f004 v f005 v f006 v f007 v f008 v f009 v f010 v f011 v f012 v f013 v f014 v f015 v f016 v f017 v f018 v f019 v f020 v f021 v f022 v f023 v f024 v f025 v f026 v f027 v f028 v f029 v f030 v f031 v f032 v f033 v f034 v f035 v f036 v f037 v f038 v f039 v f040 v f041 v f042 v f043 v f044 v f045 v f046 v f047 v f048 v f049 v f050 v f051 v f052 v f053 v f054 v f055 v f056 v f057 v f058 v f059 v f060 v f061 v f062 v f063 v f064 v f065 v f066 v f067 v f068 v f069 v f070 v f071 v f072 v f073 v f074 v f075 v f076 v f077 v f078 v f079 v f080 v f081 v f082 v f083 v f084 v f085 v f086 v f087 v f088 v f089 v f090 v f091 v f092 v f093 v f094 v f095 v f096 v f097 v f098 v f099 v f100 v f101 v f102 v f103 v f104 v f105 v f106 v f107 v f108 v f109 v f110 v f111 v f112 v f113 v f114 v f115 v f116 v f117 v f118 v f119 v f120 v f121 v f122 v f123 v f124 v f125 v f126 v f127 v f128 v
= HSET big f129 v f130 v f131 v f132 v f133 v f134 v f135 v f136 v f137 v f138 v f139 v f140 v f141 v f142 v f143 v f144 v f145 v f146 v f147 v f148 v f149 v f150 v f151 v f152 v f153 v f154 v f155 v f156 v f157 v f158 v f159 v f160 v f161 v f162 v f163 v f164 v f165 v f166 v f167 v f168 v f169 v f170 v f171 v f172 v f173 v f174 v f175 v f176 v f177 v f178 v f179 v f180 v f181 v f182 v f183 v f184 v f185 v f186 v f187 v f188 v f189 v f190 v f191 v f192 v f193 v f194 v f195 v f196 v f197 v f198 v f199 v f200 v f201 v f202 v f203 v f204 v f205 v f206 v f207 v f208 v f209 v f210 v f211 v f212 v f213 v f214 v f215 v f216 v f217 v f218 v f219 v f220 v f221 v f222 v f223 v f224 v f225 v f226 v f227 v f228 v f229 v f230 v f231 v f232 v f233 v f234 v f235 v f236 v f237 v f238 v f239 v f240 v f241 v f242 v f243 v f244 v f245 v f246 v f247 v f248 v f249 v f250 v f251 v f252 v f253 v f254 v f255 v f256 v
= HSET big f257 v f258 v f259 v f260 v f261 v f262 v f263 v f264 v f265 v f266 v f267 v f268 v f269 v f270 v f271 v f272 v f273 v f274 v f275 v f276 v f277 v f278 v f279 v f280 v f281 v f282 v f283 v f284 v f285 v f286 v f287 v f288 v f289 v f290 v f291 v f292 v f293 v f294 v f295 v f296 v f297 v f298 v f299 v f300 v f301 v f302 v f303 v f304 v f305 v f306 v f307 v f308 v f309 v f310 v f311 v f312 v f313 v f314 v f315 v f316 v f317 v f318 v f319 v f320 v f321 v f322 v f323 v f324 v f325 v f326 v f327 v f328 v f329 v f330 v f331 v f332 v f333 v f334 v f335 v f336 v f337 v f338 v f339 v f340 v f341 v f342 v f343 v f344 v f345 v f346 v f347 v f348 v f349 v f350 v f351 v f352 v f353 v f354 v f355 v f356 v f357 v f358 v f359 v f360 v f361 v f362 v f363 v f364 v f365 v f366 v f367 v f368 v f369 v f370 v f371 v f372 v f373 v f374 v f375 v f376 v f377 v f378 v f379 v f380 v f381 v f382 v f383 v f384 v
= HSET big f385 v f386 v f387 v f388 v f389 v f390 v f391 v f392 v f393 v f394 v f395 v f396 v f397 v f398 v f399 v f400 v f401 v f402 v f403 v f404 v f405 v f406 v f407 v f408 v f409 v f410 v f411 v f412 v f413 v f414 v f415 v f416 v f417 v f418 v f419 v f420 v f421 v f422 v f423 v f424 v f425 v f426 v f427 v f428 v f429 v f430 v f431 v f432 v f433 v f434 v f435 v f436 v f437 v f438 v f439 v f440 v f441 v f442 v f443 v f444 v f445 v f446 v f447 v f448 v f449 v f450 v f451 v f452 v f453 v f454 v f455 v f456 v f457 v f458 v f459 v f460 v f461 v f462 v f463 v f464 v f465 v f466 v f467 v f468 v f469 v f470 v f471 v f472 v f473 v f474 v f475 v f476 v f477 v f478 v f479 v f480 v f481 v f482 v f483 v f484 v f485 v f486 v f487 v f488 v f489 v f490 v f491 v f492 v f493 v f494 v f495 v f496 v f497 v f498 v f499 v f500 v f501 v f502 v f503 v f504 v f505 v f506 v f507 v f508 v f509 v f510 v f511 v f512 v
= OBJECT ENCODING big
= HLEN big
= HSCAN big 0 MATCH f5*
= HSET big f513 v
= OBJECT ENCODING big
= HDEL big f513 f512 f511
= OBJECT ENCODING big
= HLEN big
s HKEYS big
s HVALS big
s HGETALL big
= HGET big f064
= HEXISTS big f512
= HEXISTS big f510
# --- HRANDFIELD (deterministic cases)
= HRANDFIELD nohash
= HRANDFIELD nohash 5
= HRANDFIELD nohash -5
= HRANDFIELD nohash 5 WITHVALUES
= HSET one only val
= HRANDFIELD one
= HRANDFIELD one -3
= HRANDFIELD one -3 WITHVALUES
= HRANDFIELD one 1 withvalues
= HRANDFIELD h 0
= HRANDFIELD h 0 WITHVALUES
= HRANDFIELD h 100
= HRANDFIELD h 100 WITHVALUES
= HRANDFIELD h 9223372036854775807
= HRANDFIELD h x
= HRANDFIELD h 1.5
= HRANDFIELD h -9223372036854775808
= HRANDFIELD h 1 WITHVALUE
= HRANDFIELD h 1 WITHVALUES x
= HRANDFIELD h 4611686018427387904 WITHVALUES
= HRANDFIELD h -4611686018427387904 WITHVALUES
= HRANDFIELD h -9223372036854775807 WITHVALUES
= HRANDFIELD nohash x
= HRANDFIELD nohash 1 foo
# --- HSCAN
= HSCAN h 0
= HSCAN h 5
= HSCAN h 0 MATCH f*
= HSCAN h 0 MATCH f[1-3]
= HSCAN h 0 MATCH nomatch
= HSCAN h 0 COUNT 1
= HSCAN h 0 MATCH f* COUNT 100 MATCH *1
= HSCAN h 0 match * count 2
= HSCAN h "" COUNT 1
= HSCAN h +3
= HSCAN h -1
= HSCAN h 18446744073709551615
= HSCAN h 18446744073709551616
= HSCAN h x
= HSCAN h " 1"
= HSCAN h 0 COUNT 0
= HSCAN h 0 COUNT -1
= HSCAN h 0 COUNT x
= HSCAN h 0 COUNT
= HSCAN h 0 MATCH
= HSCAN h 0 TYPE string
= HSCAN h 0 NOVALUES
= HSCAN nohash 0
= HSCAN nohash 0 COUNT 0
= HSCAN nohash x
# --- sets: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
= SADD s1 3 1 2
= SADD s1 2 5 -7 100
= SMEMBERS s1
= OBJECT ENCODING s1
= TYPE s1
= SCARD s1
= SCARD noset
= SISMEMBER s1 2
= SISMEMBER s1 9
= SISMEMBER s1 02
= SISMEMBER noset 1
= SMISMEMBER s1 1 9 2 -7
= SMISMEMBER noset 1 2
= SREM s1 100 9 100
= SREM noset a
= SMEMBERS s1
= SMEMBERS noset
= SADD s1 a
= OBJECT ENCODING s1
s SMEMBERS s1
= SREM s1 a
= OBJECT ENCODING s1
= SADD ints 9223372036854775807 -9223372036854775808 0 -0 +1 01 1
= OBJECT ENCODING ints
s SMEMBERS ints
= SADD ints2 9223372036854775808
= OBJECT ENCODING ints2
= SADD s2 b a c
= OBJECT ENCODING s2
s SMEMBERS s2
= SADD s2 "" "two words"
= SISMEMBER s2 ""
= SCARD s2
# --- arity
= SADD s1
= SREM s1
= SMEMBERS
= SISMEMBER s1
= SMISMEMBER s1
= SCARD
= SPOP
= SRANDMEMBER
= SMOVE s1 s2
= SINTER
= SINTERSTORE d1
= SUNION
= SUNIONSTORE d1
= SDIFF
= SDIFFSTORE d1
= SINTERCARD 1
= SSCAN s1
# --- empty sets disappear
= SADD gone 1 2
= SREM gone 1 2
= EXISTS gone
= SADD gone x
= SPOP gone
= EXISTS gone
= SADD gone x y
s SPOP gone 2
= EXISTS gone
= SADD gone x
= SMOVE gone s3 x
= EXISTS gone
= SMEMBERS s3
= DEL s3
# --- SPOP / SRANDMEMBER (deterministic cases)
= SPOP noset
= SPOP noset 3
= SPOP noset 0
= SPOP noset -1
= SPOP s1 -1
= SPOP s1 x
= SPOP s1 1.5
= SPOP s1 1 2
= SPOP s1 0
= SADD single m
= SPOP single
= SPOP single
= SADD single m
= SPOP single 1
= SADD pop 5 3 1 4 2
= SPOP pop 5
= EXISTS pop
= SADD pop 5 3 1 4 2
= SPOP pop 9223372036854775807
= SADD pop a b c
s SPOP pop 10
= SRANDMEMBER noset
= SRANDMEMBER noset 5
= SRANDMEMBER noset -5
= SADD single m
= SRANDMEMBER single
= SRANDMEMBER single -4
= SRANDMEMBER single 4
= SRANDMEMBER s1 0
s SRANDMEMBER s1 100
s SRANDMEMBER s1 9223372036854775807
= SRANDMEMBER s1 -9223372036854775808
= SRANDMEMBER s1 x
= SRANDMEMBER s1 1 2
= SRANDMEMBER s1 x y
= SCARD s1
# --- SMOVE (s1 and s4 on core 1, s2 and s3 on core 0)
= DEL s1 s2 s3 s4
= SADD s1 1 2 3
= SADD s2 a b
= SMOVE s1 s2 1
= SMOVE s1 s2 1
= SMOVE s1 s2 9
s SMEMBERS s2
= SMEMBERS s1
= SMOVE s1 s4 2
= SMEMBERS s4
= SMOVE s1 s1 3
= SMOVE s1 s1 9
= SMOVE s1 s3 3
= EXISTS s1
= SMEMBERS s3
= SMOVE noset s3 3
= SMOVE noset str 3
= SET str v
= SMOVE s3 str 3
= SMOVE s3 str 9
= SMOVE str s3 3
= SMEMBERS s3
= SADD s4 x
= SMOVE s4 s3 x
= OBJECT ENCODING s3
s SMEMBERS s3
# --- SINTER SUNION SDIFF and their STORE forms across cores
= DEL s1 s2 s3 s4
= SADD s1 1 2 3 4 5
= SADD s2 4 5 6 7
= SADD s3 5 7 9
= SADD s4 a b 5
= SINTER s1 s2
= SINTER s1 s2 s3
= SINTER s1 s2 s3 s4
= SINTER s1 noset
= SINTER noset s1
= SINTER s1
= SINTER s1 s1
= SUNION s1 s2
= SUNION s1 s2 s3 noset
s SUNION s1 s4
= SUNION noset
= SDIFF s1 s2
= SDIFF s1 s2 s3
= SDIFF s1 noset
= SDIFF noset s1
= SDIFF s1 s1
s SDIFF s4 s1
= SINTERSTORE d2 s1 s2
= SMEMBERS d2
= SINTERSTORE d2 s1 s3
= SMEMBERS d2
= SINTERSTORE d2 s1 noset
= EXISTS d2
= SUNIONSTORE d2 s1 s2 s3
= SMEMBERS d2
= OBJECT ENCODING d2
= SUNIONSTORE d3 s1 s4
s SMEMBERS d3
= OBJECT ENCODING d3
= SDIFFSTORE d1 s1 s2 s3
= SMEMBERS d1
= SDIFFSTORE d1 s1 s1
= EXISTS d1
= SUNIONSTORE d4 noset
= EXISTS d4
# STORE replaces any value and its TTL; the destination may be a source
= SET d1 string
= EXPIRE d1 100
= SUNIONSTORE d1 s1 s3
= TTL d1
= TYPE d1
= SMEMBERS d1
= SINTERSTORE d1 d1 s2
= SMEMBERS d1
= SDIFFSTORE s1 s1 s2
= SMEMBERS s1
= SCARD s1
# --- SINTERCARD
= DEL s1 s2 s3
= SADD s1 1 2 3 4 5
= SADD s2 2 3 4 5 6
= SADD s3 3 4 5 6 7
= SINTERCARD 1 s1
= SINTERCARD 2 s1 s2
= SINTERCARD 3 s1 s2 s3
= SINTERCARD 3 s1 s2 s3 LIMIT 2
= SINTERCARD 3 s1 s2 s3 limit 0
= SINTERCARD 3 s1 s2 s3 LIMIT 100
= SINTERCARD 3 s1 s2 s3 LIMIT 1 LIMIT 2
= SINTERCARD 2 s1 noset
= SINTERCARD 1 noset
= SINTERCARD 0 s1
= SINTERCARD -1 s1
= SINTERCARD x s1
= SINTERCARD 3 s1 s2
= SINTERCARD 9223372036854775807 s1
= SINTERCARD 1 s1 LIMIT
= SINTERCARD 1 s1 LIMIT -1
= SINTERCARD 1 s1 LIMIT x
= SINTERCARD 1 s1 LIMIT 1 x
= SINTERCARD 1 s1 FOO 1
= SINTERCARD 2 s1 LIMIT
= SINTERCARD 1 str
= SINTERCARD 2 noset str
= SINTERCARD 1 str LIMIT x
# --- SSCAN
= SSCAN s1 0
= SSCAN s1 7
= SSCAN s1 0 MATCH 1*
= SSCAN s1 0 MATCH [2-4] COUNT 1
= SSCAN s1 0 COUNT 0
= SSCAN s1 0 COUNT x
= SSCAN s1 0 MATCH
= SSCAN s1 0 TYPE set
= SSCAN s1 x
= SSCAN s1 -5
= SSCAN noset 0
= SSCAN noset 0 FOO
= SSCAN noset x
# --- encodings of sets at the intset limit
= DEL big
= SADD many 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127 128
= SUNIONSTORE many2 many
= SADD many 129 130 131 132 133 134 135 136 137 138 139 140 141 142 143 144 145 146 147 148 149 150 151 152 153 154 155 156 157 158 159 160 161 162 163 164 165 166 167 168 169 170 171 172 173 174 175 176 177 178 179 180 181 182 183 184 185 186 187 188 189 190 191 192 193 194 195 196 197 198 199 200 201 202 203 204 205 206 207 208 209 210 211 212 213 214 215 216 217 218 219 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256
= SADD many 257 258 259 260 261 262 263 264 265 266 267 268 269 270 271 272 273 274 275 276 277 278 279 280 281 282 283 284 285 286 287 288 289 290 291 292 293 294 295 296 297 298 299 300 301 302 303 304 305 306 307 308 309 310 311 312 313 314 315 316 317 318 319 320 321 322 323 324 325 326 327 328 329 330 331 332 333 334 335 336 337 338 339 340 341 342 343 344 345 346 347 348 349 350 351 352 353 354 355 356 357 358 359 360 361 362 363 364 365 366 367 368 369 370 371 372 373 374 375 376 377 378 379 380 381 382 383 384
= SADD many 385 386 387 388 389 390 391 392 393 394 395 396 397 398 399 400 401 402 403 404 405 406 407 408 409 410 411 412 413 414 415 416 417 418 419 420 421 422 423 424 425 426 427 428 429 430 431 432 433 434 435 436 437 438 439 440 441 442 443 444 445 446 447 448 449 450 451 452 453 454 455 456 457 458 459 460 461 462 463 464 465 466 467 468 469 470 471 472 473 474 475 476 477 478 479 480 481 482 483 484 485 486 487 488 489 490 491 492 493 494 495 496 497 498 499 500 501 502 503 504 505 506 507 508 509 510 511 512
= OBJECT ENCODING many
= SCARD many
= SMEMBERS many
= SRANDMEMBER many 1000
= SADD many 0
= OBJECT ENCODING many
= SREM many 0 1 2 3
= OBJECT ENCODING many
= SCARD many
= SISMEMBER many 512
= SISMEMBER many 1
# --- WRONGTYPE both ways
= SET str v
= HSET str f v
= HSETNX str f v
= HMSET str f v
= HGET str f
= HMGET str f
= HDEL str f
= HLEN str
= HSTRLEN str f
= HEXISTS str f
= HKEYS str
= HVALS str
= HGETALL str
= HINCRBY str f 1
= HINCRBY str f x
= HINCRBYFLOAT str f 1
= HINCRBYFLOAT str f x
= HINCRBYFLOAT str f inf
= HRANDFIELD str
= HRANDFIELD str 1
= HRANDFIELD str x
= HSCAN str 0
= HSCAN str 0 COUNT 0
= HSCAN str x
= SADD str m
= SREM str m
= SMEMBERS str
= SISMEMBER str m
= SMISMEMBER str m
= SCARD str
= SPOP str
= SPOP str 1
= SPOP str -1
= SRANDMEMBER str
= SRANDMEMBER str 1
= SRANDMEMBER str x
= SINTER s1 str
= SINTER noset str
= SUNION s1 str
= SDIFF s1 str
= SDIFF noset str
= SINTERSTORE d1 s1 str
= SUNIONSTORE d1 str
= SDIFFSTORE d1 s1 str
= SSCAN str 0
= SADD s1 x
= HSET s1 f v
= HGET s1 f
= SADD h x
= SMEMBERS h
= SMOVE h s1 x
= SMOVE s1 h x
= GET h
= GET s1
= LPUSH h x
= RPUSH s1 x
= TYPE str
# --- RESP3 shapes
skip HELLO 3
= HGETALL h
= HGETALL nohash
= HMGET h f1 nofield
= HKEYS h
= HRANDFIELD nohash
= HRANDFIELD h 100
= HRANDFIELD one -2
= HRANDFIELD h 0 WITHVALUES
= HRANDFIELD nohash 3 WITHVALUES
= HSCAN h 0 MATCH f*
= HINCRBYFLOAT cf f 1
= SMEMBERS s2
= SMEMBERS noset
= SINTER s1 s2
= SUNION s2 s3
= SDIFF s3 s2
= SINTER noset s1
= SPOP noset
= SPOP noset 2
= SPOP s1 0
= SADD p3 1 2 3
= SPOP p3 5
= SRANDMEMBER s2 100
= SRANDMEMBER s2 0
= SRANDMEMBER noset 5
= SRANDMEMBER noset
= SMISMEMBER s2 2 9
= SSCAN s2 0
= SINTERCARD 2 s1 s2
skip HELLO 2
= HGETALL h
= QUIT
"#;

#[test]
fn differential_hash_set() {
    run_script(SCRIPT, 450);
}
