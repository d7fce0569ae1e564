import math
import numpy as np


def projectile_range(v0, angle, g=9.81):
    return v0 ** 2 * math.sin(2 * angle) / g


def pendulum_energy(theta, omega, L=1.0, m=1.0, g=9.81, steps=20, dt=0.01):
    for _ in range(steps):
        omega = omega - g / L * math.sin(theta) * dt
        theta = theta + omega * dt
    return 0.5 * m * (L * omega) ** 2 + m * g * L * (1 - math.cos(theta))


def black_scholes_call(S, K, T, r, sigma):
    d1 = (math.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * math.sqrt(T))
    d2 = d1 - sigma * math.sqrt(T)
    nd1 = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
    nd2 = 0.5 * (1 + math.erf(d2 / math.sqrt(2)))
    return S * nd1 - K * math.exp(-r * T) * nd2


def npv(rate, cashflows):
    total = 0.0
    for t, cf in enumerate(cashflows):
        total += cf / (1 + rate) ** t
    return total


def compound(principal, rate, years=10, n=12):
    amount = principal
    for _ in range(years * n):
        amount = amount * (1 + rate / n)
    return amount


def spring_chain(x, k=1.0):
    e = 0.0
    for i in range(1, len(x)):
        e += 0.5 * k * (x[i] - x[i - 1] - 1.0) ** 2
    return e


def kinetic(v, m):
    return 0.5 * np.sum(m * v ** 2)
