import Fluxion
let x = NDArray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
let c = x .> 2
print(c, c.dtype, NDArray.where(c, x, NDArray.zerosLike(x)), NDArray.where(c, x, 0))
